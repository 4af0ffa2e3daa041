import { Command } from 'commander'
import pc from 'picocolors'
import { openSchemaReader } from '../../store/reader.js'
import { dbOption, isTty, type CommonFlags } from '../common.js'
import { UsageError } from '../../errors.js'

interface SchemaFlags extends CommonFlags {
  json?: boolean
}

export function schemaCommand(): Command {
  return dbOption(
    new Command('schema')
      .description('List the tables and views with what each column means (for the sqlite3 shell and `tracedb sql`).')
      .argument('[name]', 'only this table or view')
      .option('--json', 'print as JSON'),
  ).action(async (name: string | undefined, flags: SchemaFlags) => {
    // a reader: never migrates the file (without one, the schema tracedb would create)
    const reader = await openSchemaReader(flags.db)
    try {
      let entries = await reader.describe()
      if (name !== undefined) {
        entries = entries.filter((e) => e.name === name)
        if (entries.length === 0) throw new UsageError(`no table or view "${name}"`, { hint: 'run `tracedb schema` to list them' })
      }
      if (flags.json) {
        process.stdout.write(JSON.stringify(entries, null, 2) + '\n')
        return
      }
      const color = isTty(process.stdout)
      const out: string[] = []
      for (const e of entries) {
        out.push(`${color ? pc.bold(e.name) : e.name} (${e.type})${e.description ? ` — ${e.description}` : ''}`)
        const width = Math.max(...e.columns.map((c) => c.name.length))
        for (const c of e.columns) {
          out.push(`  ${c.name.padEnd(width)}  ${c.type.padEnd(7)}  ${c.description}`)
        }
        out.push('')
      }
      process.stdout.write(out.join('\n'))
    } finally {
      await reader.close()
    }
  })
}
