import { Command } from 'commander'
import { QueryError } from '../../errors.js'
import { loadCatalog, QUERIES_DIR, usedParams, type NamedQuery } from '../../queries/catalog.js'
import { bindParams } from '../../queries/run.js'
import { openReader } from '../../store/reader.js'
import { captureOptions, dbOption, isTty, type CommonFlags } from '../common.js'
import { outputFormat, render, toTable } from '../output.js'
import { escapeControls, escapeLines } from '../sanitize.js'

interface QueryFlags extends CommonFlags {
  list?: boolean
  capture?: string
  host?: string
  param: string[][]
  queries: string[]
  json?: boolean
  csv?: boolean
  help?: boolean
}

/** `--help` text of one named query. */
export function queryHelp(q: NamedQuery): string {
  const usage = q.params.map((p) => ('default' in p ? `[${p.name.toUpperCase()}]` : p.name.toUpperCase())).join(' ')
  const lines = [`Usage: tracedb query ${q.name} ${usage} [options]`, '', q.description, '']
  if (q.params.length) {
    lines.push('Parameters (positional, in this order, or -p NAME VALUE):')
    for (const p of q.params) {
      const def = 'default' in p ? ` (default: ${p.default === null ? 'none' : String(p.default)})` : ' (required)'
      lines.push(`  ${p.name.padEnd(12)} ${p.type.padEnd(8)} ${p.description}${def}`)
    }
    lines.push('')
  }
  const fleet = !usedParams(q.sql).has('capture')
  lines.push(
    fleet ? 'Options: --json, --csv, --db FILE|URL (reads every capture)' : 'Options: --capture NAME, --host H, --json, --csv, --db FILE|URL',
    `Source: ${q.path}`,
  )
  for (const [engine, v] of Object.entries(q.variants ?? {})) lines.push(`${engine[0]?.toUpperCase() ?? ''}${engine.slice(1)} variant: ${v.path}`)
  return lines.join('\n') + '\n'
}

export function queryCommand(): Command {
  const cmd = new Command('query')
    .description('Run a named query (queries/*.sql) against a capture; `query --list` lists them, `query NAME --help` explains one.')
    .argument('[name]', 'query name, see --list')
    .argument('[args...]', 'the query\'s parameters, in order')
    .option('-l, --list', 'list the named queries with their descriptions')
  captureOptions(cmd, 'capture to query')
  cmd
    .option(
      '-p, --param <name-value...>',
      'set a parameter by name: -p pid 1442 (repeatable)',
      (v: string, prev: string[][]) => {
        const last = prev.at(-1)
        if (last && last.length === 1) last.push(v)
        else prev.push([v])
        return prev
      },
      [] as string[][],
    )
    .option('--queries <dir>', 'also read named queries from DIR (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--json', 'print rows as a JSON array of objects')
    .option('--csv', 'print rows as CSV')
    .helpOption(false)
    .option('-h, --help', 'show help (for a query when NAME is given)')
    .addHelpText(
      'after',
      `
Examples:
  $ tracedb query --list
  $ tracedb query descendants 1442
  $ tracedb query tree 1442 --capture before
  $ tracedb query descendants -p pid 1442 --json
  $ tracedb query descendants 1442 --db postgres://tracedb@db/tracedb --host bastion-3 --capture logs
  $ tracedb query hosts --db postgres://tracedb@db/tracedb`,
    )
  return dbOption(cmd).action(async (name: string | undefined, args: string[], flags: QueryFlags) => {
    const catalog = loadCatalog([QUERIES_DIR, ...flags.queries])
    if (flags.help && !name) {
      cmd.outputHelp()
      return
    }
    if (flags.list || !name) {
      const rows = [...catalog.values()]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((q) => ({
          name: q.name,
          params: q.params.map((p) => ('default' in p ? `[${p.name}]` : p.name)).join(' '),
          description: q.description,
        }))
      const result = { columns: ['name', 'params', 'description'], rows }
      const format = outputFormat(flags)
      process.stdout.write(format === 'table' ? toTable(result, { color: isTty(process.stdout), maxWidth: 200 }) : render(result, format, false))
      return
    }
    const q = catalog.get(name)
    if (!q) {
      throw new QueryError(`query "${name}" not found`, {
        hint: `known queries: ${[...catalog.keys()].sort().join(', ')} (tracedb query --list)`,
      })
    }
    if (flags.help) {
      process.stdout.write(escapeLines(queryHelp(q)))
      return
    }
    const named: Record<string, string> = {}
    for (const pair of flags.param) {
      const [k, v] = pair
      if (k === undefined || v === undefined) {
        throw new QueryError('-p needs a name and a value', { hint: 'e.g. -p pid 1442' })
      }
      named[k] = v
    }
    const params = bindParams(q, args, named)
    const reader = await openReader(flags.db)
    try {
      // a fleet query (no :capture) reads every capture: none to pick
      const capture = usedParams(q.sql).has('capture') ? await reader.resolveCapture({ name: flags.capture, host: flags.host }) : undefined
      const result = await reader.runNamed(q, params, capture?.id ?? null)
      const format = outputFormat(flags, q.render)
      const color = isTty(process.stdout)
      process.stdout.write(render(result, format, color))
      if (result.rows.length === 0 && format !== 'json' && format !== 'csv') {
        process.stderr.write(capture ? `no rows in capture "${escapeControls(capture.name)}"\n` : 'no rows\n')
      }
    } finally {
      await reader.close()
    }
  })
}
