import { Command, Option } from 'commander'
import { writeFileSync } from 'node:fs'
import { QueryError, UsageError } from '../../errors.js'
import { exportPerfetto } from '../../export/perfetto.js'
import { openReader } from '../../store/reader.js'
import { captureOptions, dbOption, type CommonFlags } from '../common.js'
import { escapeControls } from '../sanitize.js'

interface ExportFlags extends CommonFlags {
  format: 'perfetto'
  out?: string
  capture?: string
  host?: string
}

export function exportCommand(): Command {
  return dbOption(
    captureOptions(new Command('export'), 'capture')
      .description(
        'Export the process tree under PID as a timeline: Chrome trace-event JSON that ui.perfetto.dev and chrome://tracing open (one track per process instance, lifetimes, execs, exits and every other tool\'s events).',
      )
      .argument('<pid>', 'root process ID')
      .addOption(new Option('-f, --format <format>', 'output format').choices(['perfetto']).default('perfetto'))
      .option('-o, --out <file>', 'write to FILE instead of stdout')
      .addHelpText('after', '\nExample:\n  $ tracedb export 1442 --out login.json   # then open login.json in ui.perfetto.dev'),
  ).action(async (pidText: string, flags: ExportFlags) => {
    if (!/^\d+$/.test(pidText)) throw new UsageError(`PID must be a number, got "${pidText}"`)
    const reader = await openReader(flags.db)
    try {
      const capture = await reader.resolveCapture({ name: flags.capture, host: flags.host })
      const trace = await exportPerfetto(reader, { captureId: capture.id, pid: Number(pidText) })
      if (trace.metadata.processes === 0) {
        throw new QueryError(`no process with PID ${pidText} in capture "${capture.name}"`, {
          hint: `list some with: tracedb query processes --capture ${capture.name}`,
        })
      }
      const json = JSON.stringify(trace)
      if (flags.out) {
        writeFileSync(flags.out, json)
        process.stderr.write(`wrote ${escapeControls(flags.out)}: ${String(trace.metadata.processes)} process tracks, ${String(trace.traceEvents.length)} events; open it in https://ui.perfetto.dev\n`)
      } else {
        process.stdout.write(json + '\n')
      }
    } finally {
      await reader.close()
    }
  })
}
