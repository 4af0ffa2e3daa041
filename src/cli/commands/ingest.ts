import { Command } from 'commander'
import { SingleBar } from 'cli-progress'
import pc from 'picocolors'
import { ingest, type FileReport } from '../../ingest/ingest.js'
import { openStore } from '../../store/open.js'
import { dbOption, writerLock, isTty, type CommonFlags } from '../common.js'
import { runWatch } from './watch.js'
import { UsageError } from '../../errors.js'
import { escapeControls } from '../sanitize.js'

interface IngestFlags extends CommonFlags {
  capture?: string
  date?: string
  tz?: string
  json?: boolean
  progress?: boolean
  follow?: boolean
  host?: string
}

function describe(f: FileReport): string {
  if (f.status === 'skipped') return `skipped: ${f.reason ?? ''}`
  const tool = f.format ? `${f.format} (${[f.variant, ...f.flags].filter(Boolean).join(' ')})` : 'no tool header'
  const parts = [`${String(f.lines)} new lines`, `${String(f.records)} records`]
  if (f.continuations) parts.push(`${String(f.continuations)} continuation lines`)
  if (f.messages) parts.push(`${String(f.messages)} messages`)
  parts.push(`${String(f.bad)} bad`)
  return `${tool}: ${f.status}, ${parts.join(', ')}`
}

export function ingestCommand(): Command {
  return dbOption(
    new Command('ingest')
      .description(
        'Read tool logs (a directory = one capture, or files) into the database: every line into the event store, records into per-tool tables, then derive process instances. Re-running adds only what is new.',
      )
      .argument('<paths...>', 'directories of logs (one capture each) or log files')
      .option('-c, --capture <name>', 'capture name (default: the directory name)')
      .option('--date <YYYY-MM-DD>', 'date of the wall-clock times in the logs (default: each file\'s modification date)')
      .option('--tz <zone>', 'time zone of the wall-clock times, IANA name or +HH:MM (default: this machine\'s)')
      .option('--host <name>', 'the host the logs were recorded on (default: capture.json\'s hostname); tells captures apart on a shared PostgreSQL (tracedb push)')
      .option('--json', 'print the report as JSON')
      .option('-f, --follow', 'after reading, keep following the directory like `tracedb watch`')
      .option('--no-progress', 'no progress bar on a terminal')
      .addHelpText(
        'after',
        `
Examples:
  $ tracedb ingest ./logs
  $ tracedb ingest --capture before --date 2026-11-28 --tz Europe/Berlin ./before
  $ tracedb ingest execsnoop.log exitsnoop.log --capture login`,
      ),
  ).action(async (paths: string[], flags: IngestFlags) => {
    const lock = await writerLock(flags.db)
    const store = openStore(flags.db)
    try {
      let bar: SingleBar | undefined
      const showProgress = flags.progress !== false && isTty(process.stderr) && !flags.json
      const report = await ingest(store, {
        paths,
        ...(flags.capture !== undefined ? { capture: flags.capture } : {}),
        ...(flags.date !== undefined ? { date: flags.date } : {}),
        ...(flags.tz !== undefined ? { tz: flags.tz } : {}),
        ...(flags.host !== undefined ? { host: flags.host } : {}),
        onProgress: (p) => {
          if (!showProgress || p.bytesTotal < 8 << 20) return
          if (!bar) {
            bar = new SingleBar({
              format: ' {bar} {percentage}% | {file} | {value}/{total} MB',
              stream: process.stderr,
              hideCursor: true,
            })
            bar.start(Math.ceil(p.bytesTotal / 1e6), 0, { file: escapeControls(p.path) })
          }
          bar.setTotal(Math.ceil(p.bytesTotal / 1e6))
          bar.update(Math.round(p.bytesDone / 1e6), { file: escapeControls(p.path) })
        },
      })
      bar?.stop()
      if (flags.json) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n')
      } else {
        const color = isTty(process.stdout)
        // paths, capture names and bad-line reasons (which quote the line) come from the logs: escaped
        const out: string[] = [escapeControls(`capture "${report.capture}" in ${store.path}`)]
        for (const f of report.files) {
          const line = `  ${escapeControls(`${f.path}: ${describe(f)}`)}`
          out.push(color && (f.bad > 0 || f.status === 'skipped') ? pc.yellow(line) : line)
          for (const b of f.badExamples) out.push(`      line ${String(b.line)}: ${escapeControls(b.reason)}`)
        }
        const total = report.files.reduce(
          (a, f) => ({ lines: a.lines + f.lines, records: a.records + f.records, bad: a.bad + f.bad }),
          { lines: 0, records: 0, bad: 0 },
        )
        out.push(
          `${String(report.files.length)} files, ${String(total.lines)} new lines, ${String(total.records)} records, ${String(total.bad)} bad lines` +
            (report.processes === null ? '' : `; ${String(report.processes)} process instances`),
        )
        if (total.bad > 0) out.push(`see them with: tracedb query bad-lines --capture ${escapeControls(report.capture)}`)
        process.stdout.write(out.join('\n') + '\n')
      }
      for (const w of report.warnings) process.stderr.write(`${isTty(process.stderr) ? pc.yellow('warning') : 'warning'}: ${escapeControls(w)}\n`)
      if (report.files.length > 0 && report.files.every((f) => f.status === 'skipped')) process.exitCode = 1
    } finally {
      store.close()
      lock.release()
    }
    if (flags.follow) {
      if (paths.length !== 1) throw new UsageError('--follow takes exactly one directory', { hint: 'tracedb ingest --follow ./logs' })
      await runWatch(paths[0] ?? '.', {
        db: flags.db,
        ...(flags.capture !== undefined ? { capture: flags.capture } : {}),
        ...(flags.host !== undefined ? { host: flags.host } : {}),
      })
    }
  })
}
