import { Command } from 'commander'
import { compareSummaries } from '../../compare.js'
import { UsageError } from '../../errors.js'
import { openReader } from '../../store/reader.js'
import { dbOption, isTty, type CommonFlags } from '../common.js'
import { outputFormat, render } from '../output.js'
import { escapeControls } from '../sanitize.js'

interface CompareFlags extends CommonFlags {
  capture?: string
  captureB?: string
  host?: string
  hostB?: string
  query: string
  queries: string[]
  json?: boolean
  csv?: boolean
}

/** ` on HOST` where the store records hosts (the centre), else nothing. */
const on = (host: string | null | undefined): string => (host ? ` on ${host}` : '')

function pidArg(text: string, name: string): number {
  if (!/^\d+$/.test(text)) {
    throw new UsageError(`${name} must be a process ID (a number), got "${text}"`, {
      hint: 'e.g. tracedb compare 1442 1501 --capture before --capture-b after',
    })
  }
  return Number(text)
}

export function compareCommand(): Command {
  return dbOption(
    new Command('compare')
      .description(
        'Before/after: the summary of the process tree of PID_A in one capture next to that of PID_B in another (or the same) capture, joined by section and item, with what changed (descendants went from 128 to 3: -125 (-97.7%); new, gone).',
      )
      .argument('<pid_a>', 'root process ID in capture A')
      .argument('[pid_b]', 'root process ID in capture B (default: PID_A)')
      .option('-c, --capture <name>', 'capture A (default: the most recently ingested)')
      .option('-b, --capture-b <name>', 'capture B (default: the same as capture A)')
      .option('--host <host>', 'host of capture A, where several hosts pushed to one store')
      .option('--host-b <host>', 'host of capture B (default: that of capture A): the same capture name on two hosts')
      .option('-q, --query <name>', 'the summary-shaped query to run on both sides (a pid parameter; section, item, value columns)', 'summary')
      .option('--queries <dir>', 'also read named queries from DIR (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
      .option('--json', 'print rows as a JSON array of objects')
      .option('--csv', 'print rows as CSV')
      .addHelpText(
        'after',
        `
Columns: section, item, A, B, change. change is "" when equal, "-125 (-97.7%)"
for numbers, "changed" for other differences, "new"/"gone" for rows only one
side has.

Examples:
  $ tracedb ingest ./before --capture before && tracedb ingest ./after --capture after
  $ tracedb compare 1442 1501 --capture before --capture-b after
  $ tracedb compare 1442 1442 --capture before --capture-b after --json
  $ tracedb compare 1442 1501 -c before -b after --query my-summary --queries ./my-queries
  $ tracedb compare 812 812 -c logs --host bastion-1 --host-b bastion-7 --db postgres://tracedb@db/tracedb`,
      ),
  ).action(async (pidAText: string, pidBText: string | undefined, flags: CompareFlags) => {
    const pidA = pidArg(pidAText, 'PID_A')
    const pidB = pidBText === undefined ? pidA : pidArg(pidBText, 'PID_B')
    const reader = await openReader(flags.db)
    try {
      const result = await compareSummaries(reader, {
        pidA,
        pidB,
        query: flags.query,
        queries: flags.queries,
        ...(flags.capture === undefined ? {} : { captureA: flags.capture }),
        ...(flags.captureB === undefined ? {} : { captureB: flags.captureB }),
        ...(flags.host === undefined ? {} : { hostA: flags.host }),
        ...(flags.hostB === undefined ? {} : { hostB: flags.hostB }),
      })
      const format = outputFormat(flags)
      const color = isTty(process.stdout)
      if (format === 'table') {
        // capture names default to the log directory's name: escaped
        process.stdout.write(
          `${escapeControls(`A: pid ${String(result.a.pid)} in capture "${result.a.capture.name}"${on(result.a.capture.host)}   B: pid ${String(result.b.pid)} in capture "${result.b.capture.name}"${on(result.b.capture.host)}   (query ${result.query})`)}\n\n`,
        )
      }
      process.stdout.write(render(result, format, color))
    } finally {
      await reader.close()
    }
  })
}
