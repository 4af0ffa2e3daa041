import { Command } from 'commander'
import { Watcher } from '../../watch/watcher.js'
import { LivePusher } from '../../push/live.js'
import { redactUrl } from '../../push/centre.js'
import { pushHooks } from './push.js'
import { openStore } from '../../store/open.js'
import { dbOption, writerLock, type CommonFlags } from '../common.js'
import { escapeControls } from '../sanitize.js'

interface WatchFlags extends CommonFlags {
  capture?: string
  date?: string
  tz?: string
  poll?: boolean
  quiet?: boolean
  host?: string
  push?: string
}

/**
 * `--push URL`: a pusher that ships the watched capture as batches commit,
 * saying on stderr when the centre cannot be reached (recording goes on).
 */
export function livePusher(db: string, url: string, captureId: number): LivePusher {
  const where = escapeControls(redactUrl(url))
  return new LivePusher(db, url, captureId, {
    ...pushHooks(),
    onError: (error, retryMs) =>
      process.stderr.write(
        `push to ${where} failed: ${escapeControls(error.message)}; recording goes on, retrying in ${String(Math.round(retryMs / 1000))} s\n`,
      ),
    onRecovered: () => process.stderr.write(`push to ${where} works again\n`),
  })
}

/** Stops a pusher after its last push; a failure is reported, not thrown: the store has everything. */
export async function stopPusher(pusher: LivePusher | undefined, db: string, url: string | undefined): Promise<void> {
  if (!pusher || url === undefined) return
  try {
    await pusher.stop()
  } catch (error) {
    process.stderr.write(
      `last push to ${escapeControls(redactUrl(url))} failed: ${escapeControls((error as Error).message)}; everything is in ${escapeControls(db)}: ship it later with \`tracedb push --to URL --db ${escapeControls(db)}\`\n`,
    )
    process.exitCode = 2
  }
}

/** Runs a watcher until SIGINT/SIGTERM, then flushes and exits 0. */
export async function runWatch(dir: string, flags: WatchFlags): Promise<void> {
  const lock = await writerLock(flags.db)
  const store = openStore(flags.db)
  let pusher: LivePusher | undefined
  const watcher = new Watcher(store, {
    dir,
    ...(flags.capture !== undefined ? { capture: flags.capture } : {}),
    ...(flags.date !== undefined ? { date: flags.date } : {}),
    ...(flags.tz !== undefined ? { tz: flags.tz } : {}),
    ...(flags.poll ? { poll: true } : {}),
    ...(flags.host !== undefined ? { host: flags.host } : {}),
    onReport: (r) => {
      pusher?.kick()
      if (!flags.quiet) {
        process.stderr.write(`${escapeControls(r.path)}: +${String(r.lines)} lines, ${String(r.records)} records, ${String(r.bad)} bad\n`)
      }
    },
    // warnings quote file names and log text
    onWarning: (w) => process.stderr.write(`warning: ${escapeControls(w)}\n`),
  })
  let stopping: Promise<void> | undefined
  const done = new Promise<void>((resolveDone) => {
    const stop = (): void => {
      stopping ??= watcher
        .stop()
        .then(async (s) => {
          process.stderr.write(
            `stopped: ${String(s.lines)} lines, ${String(s.records)} records, ${String(s.bad)} bad lines ingested\n`,
          )
          await stopPusher(pusher, flags.db, flags.push)
        })
        .finally(() => {
          store.close()
          lock.release()
          resolveDone()
        })
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await watcher.start()
  if (flags.push !== undefined && watcher.captureId !== undefined) {
    pusher = livePusher(flags.db, flags.push, watcher.captureId)
    pusher.kick()
  }
  process.stderr.write(
    `watching ${escapeControls(dir)} into ${escapeControls(store.path)} (capture id ${String(watcher.captureId)})` +
      (flags.push !== undefined ? `, pushing to ${escapeControls(redactUrl(flags.push))}` : '') +
      '; Ctrl-C to stop\n',
  )
  await done
}

export function watchCommand(): Command {
  return dbOption(
    new Command('watch')
      .description(
        'Ingest a log directory live, as the tools write it: complete lines are committed as they arrive, queries work meanwhile; Ctrl-C (SIGINT) or SIGTERM flushes and stops. A restart resumes where it stopped.',
      )
      .argument('<dir>', 'the directory the tools write their logs into')
      .option('-c, --capture <name>', 'capture name (default: the directory name)')
      .option('--date <YYYY-MM-DD>', 'date of the wall-clock times in the logs (default: each file\'s modification date)')
      .option('--tz <zone>', 'time zone of the wall-clock times (default: this machine\'s)')
      .option('--poll', 'poll files instead of using inotify (network file systems)')
      .option('-q, --quiet', 'do not report each batch')
      .option('--host <name>', 'the host the logs come from (default: capture.json\'s hostname); tells captures apart on a shared PostgreSQL')
      .option('--push <url>', 'also ship the capture to a shared PostgreSQL (postgres://…) as batches commit, like `tracedb push`; when it cannot be reached, recording goes on and the push is retried'),
  ).action(async (dir: string, flags: WatchFlags) => {
    await runWatch(dir, flags)
  })
}
