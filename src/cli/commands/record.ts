import { Command, InvalidArgumentError } from 'commander'
import { ingest } from '../../ingest/ingest.js'
import { DEFAULT_TOOLS, RECIPES, record } from '../../record/record.js'
import { Watcher } from '../../watch/watcher.js'
import { openStore } from '../../store/open.js'
import { dbOption, writerLock, type CommonFlags } from '../common.js'
import { mkdirSync } from 'node:fs'
import { localDateOf, localTimeZone } from '../../ingest/clock.js'
import { escapeControls, escapeLines } from '../sanitize.js'
import { UsageError } from '../../errors.js'
import type { LivePusher } from '../../push/live.js'
import { livePusher, stopPusher } from './watch.js'

/** `15s`, `2m`, `500ms`, `1h` → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (!m) throw new InvalidArgumentError('use a duration like 15s, 2m, 500ms')
  const n = Number(m[1])
  const unit = m[2] ?? 's'
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'])
}

interface RecordFlags extends CommonFlags {
  duration: number
  tools?: string
  bccTools?: string
  cgroup?: string
  watch?: boolean
  host?: string
  push?: string
}

export function recordCommand(): Command {
  return dbOption(
    new Command('record')
      .description(
        'Run the installed eBPF tracing tools into DIR the right way (line-buffered, best time columns, stopped with SIGINT so nothing is lost) and write capture.json (times, zone, host, kernel, each tool\'s command and what failed). Needs root.',
      )
      .argument('<dir>', 'directory for the logs (one capture)')
      .option('-d, --duration <time>', 'how long to trace: 15s, 2m, ... (Ctrl-C stops early)', parseDuration, 15_000)
      .option('-t, --tools <list>', `comma-separated tools (default: ${DEFAULT_TOOLS.join(',')}; known: ${RECIPES.map((r) => r.name).join(',')})`)
      .option('--bcc-tools <dir>', 'a bcc tools/ directory to take the Python tools from')
      .option('--cgroup <dir>', 'a cgroup v2 directory: execsnoop, exitsnoop and biosnoop (libbpf) trace only its processes, e.g. a workload on a shared machine; the other tools trace everything')
      .option('-w, --watch', 'ingest live into --db while recording (without --watch, an explicit --db gets the capture when recording ends)')
      .option('--host <name>', 'the host name stored with the capture (default: this machine\'s, as capture.json says)')
      .option('--push <url>', 'with --watch: also ship the capture to a shared PostgreSQL (postgres://…) as it is ingested; recording goes on when it cannot be reached')
      .addHelpText(
        'after',
        `
Each tool runs with the flags that give its best clock: execsnoop -T -t
(the wall-clock second and ms since the tool started; capture.json keeps
each tool's start, started_utc and header_utc, to the ms, which anchor it),
exitsnoop -t, tcpstates -T, tcplife -T, opensnoop -T, runqslower -P 1000
(run-queue waits of 1 ms or more, and the task that held the CPU); drsnoop,
filelife and sigsnoop always print HH:MM:SS.

Examples:
  $ sudo tracedb record ./logs --duration 30s
  $ sudo tracedb record ./logs --tools execsnoop,exitsnoop,tcpstates --watch
  $ sudo tracedb record ./logs --db incident.db      # ingested when it ends
  $ sudo tracedb record ./logs --watch --push postgres://tracedb@central/fleet
  $ tracedb ingest ./logs && tracedb query --list`,
      ),
  ).action(async (dir: string, flags: RecordFlags, command: Command) => {
    // `--db X` on the command line says where the capture goes; the default
    // (./tracedb.db or $TRACEDB_DB) alone does not make record write a database
    const ingestAfter = !flags.watch && command.getOptionValueSource('db') === 'cli'
    if (flags.push !== undefined && !flags.watch) {
      throw new UsageError('--push ships what --watch ingests: add --watch', { hint: 'tracedb record ./logs --watch --push postgres://HOST/DB' })
    }
    let interrupted: () => void = () => undefined
    const stopSignal = new Promise<void>((ok) => (interrupted = ok))
    process.once('SIGINT', () => interrupted())
    process.once('SIGTERM', () => interrupted())
    let watcher: Watcher | undefined
    let closeWatch: (() => Promise<void>) | undefined
    if (flags.watch) {
      const lock = await writerLock(flags.db)
      const store = openStore(flags.db)
      // the tools print this machine's local time, today: say so, as capture.json will
      const tz = localTimeZone()
      const date = localDateOf(tz, Date.now()).date
      let pusher: LivePusher | undefined
      watcher = new Watcher(store, {
        dir,
        date,
        tz,
        ...(flags.host !== undefined ? { host: flags.host } : {}),
        onWarning: (w) => process.stderr.write(`warning: ${escapeControls(w)}\n`),
        onReport: () => pusher?.kick(),
      })
      // the directory must exist before it is watched
      mkdirSync(dir, { recursive: true })
      await watcher.start()
      if (flags.push !== undefined && watcher.captureId !== undefined) {
        pusher = livePusher(flags.db, flags.push, watcher.captureId)
        pusher.kick()
      }
      closeWatch = async () => {
        await watcher?.stop()
        await stopPusher(pusher, flags.db, flags.push)
        store.close()
        lock.release()
      }
    }
    try {
      const meta = await record({
        dir,
        durationMs: flags.duration,
        ...(flags.tools !== undefined ? { tools: flags.tools.split(',').map((t) => t.trim()).filter(Boolean) } : {}),
        ...(flags.bccTools !== undefined ? { bccTools: flags.bccTools } : {}),
        ...(flags.cgroup !== undefined ? { cgroup: flags.cgroup } : {}),
        // statuses quote the tools' own stderr
        onStatus: (m) => process.stderr.write(`${escapeLines(m)}\n`),
        stopSignal,
      })
      // the failures quote the tools' stderr; the paths are the user's but may be odd
      process.stdout.write(
        escapeLines(
          `recorded ${Object.keys(meta.tools).join(', ')} into ${dir} (${meta.start_utc} .. ${meta.end_utc}); capture.json written\n` +
            (Object.keys(meta.failed).length ? `not recorded: ${Object.entries(meta.failed).map(([t, w]) => `${t} (${w})`).join('; ')}\n` : '') +
            (flags.watch ? `ingested live into ${flags.db}\n` : ingestAfter ? '' : `next: tracedb ingest ${dir}\n`),
        ),
      )
    } finally {
      await closeWatch?.()
    }
    if (ingestAfter) await ingestRecording(dir, flags.db, flags.host)
  })
}

/** `record DIR --db X`: the finished capture goes into X, as `tracedb ingest DIR --db X` would put it. */
async function ingestRecording(dir: string, db: string, host: string | undefined): Promise<void> {
  try {
    const lock = await writerLock(db)
    const store = openStore(db)
    try {
      const report = await ingest(store, { paths: [dir], ...(host !== undefined ? { host } : {}) })
      const sum = (key: 'lines' | 'records' | 'bad'): number => report.files.reduce((n, f) => n + f[key], 0)
      process.stdout.write(
        escapeLines(
          `ingested ${String(sum('lines'))} new lines (${String(sum('records'))} records, ${String(sum('bad'))} bad) into ${db} as capture "${report.capture}"\n` +
            `next: tracedb query --list --db ${db}\n`,
        ),
      )
      for (const w of report.warnings) process.stderr.write(escapeLines(`warning: ${w}\n`))
    } finally {
      store.close()
      lock.release()
    }
  } catch (error) {
    // the recording itself is safe on disk: say how to finish the job
    process.stderr.write(`the recording is kept in ${dir}; once the error below is fixed: tracedb ingest ${dir} --db ${db}\n`)
    throw error
  }
}
