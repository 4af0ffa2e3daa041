import { Command } from 'commander'
import { readFileSync } from 'node:fs'
import { runSql } from '../../queries/run.js'
import { openStore } from '../../store/open.js'
import { openReader } from '../../store/reader.js'
import { dbOption, isTty, writerLock, type CommonFlags } from '../common.js'
import { outputFormat, render } from '../output.js'
import { UsageError } from '../../errors.js'

interface SqlFlags extends CommonFlags {
  write?: boolean
  param: string[][]
  json?: boolean
  csv?: boolean
}

export function sqlCommand(): Command {
  return dbOption(
    new Command('sql')
      .description(
        'Run one SQL statement against the database; `-` reads it from stdin. Read-only unless --write: on a SQLite file, statements that would write anything anywhere (INSERT, CREATE TEMP, VACUUM INTO, ATTACH, PRAGMAs that set, load_extension, ...) are refused before they run; on PostgreSQL (--db postgres://...) the statement runs in a READ ONLY transaction, and --write is refused.',
      )
      .argument('<sql>', 'the SQL statement, or - for stdin')
      .option('--write', 'open the database for writing (SQLite files only)')
      .option(
        '-p, --param <name-value...>',
        'bind :name to value (repeatable): -p pid 1442',
        (v: string, prev: string[][]) => {
          const last = prev.at(-1)
          if (last && last.length === 1) last.push(v)
          else prev.push([v])
          return prev
        },
        [] as string[][],
      )
      .option('--json', 'print rows as a JSON array of objects')
      .option('--csv', 'print rows as CSV')
      .addHelpText(
        'after',
        `
Examples:
  $ tracedb sql "select pid, comm, lifetime_s from process order by lifetime_s desc limit 10"
  $ tracedb sql "select * from process where pid = :pid" -p pid 1442 --json
  $ tracedb sql "select host, count(*) from capture group by host" --db postgres://tracedb@db/tracedb`,
      ),
  ).action(async (sqlArg: string, flags: SqlFlags) => {
    const sql = sqlArg === '-' ? readFileSync(0, 'utf8') : sqlArg
    const params: Record<string, string | number> = {}
    for (const [k, v] of flags.param) {
      if (k === undefined || v === undefined) throw new UsageError('-p needs a name and a value', { hint: 'e.g. -p pid 1442' })
      params[k] = /^-?\d+$/.test(v) ? Number(v) : v
    }
    if (!flags.write) {
      const reader = await openReader(flags.db)
      try {
        const result = await reader.run(sql, params)
        process.stdout.write(render(result, outputFormat(flags), isTty(process.stdout)))
      } finally {
        await reader.close()
      }
      return
    }
    const lock = await writerLock(flags.db)
    const store = openStore(flags.db)
    try {
      const result = runSql(store, sql, params)
      process.stdout.write(render(result, outputFormat(flags), isTty(process.stdout)))
    } finally {
      store.close()
      lock.release()
    }
  })
}
