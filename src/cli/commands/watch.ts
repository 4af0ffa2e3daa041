import { Command } from 'commander'
import { Watcher } from '../../watch/watcher.js'
import { openStore } from '../../store/open.js'
import { dbOption, writerLock, type CommonFlags } from '../common.js'
import { escapeControls } from '../sanitize.js'

interface WatchFlags extends CommonFlags {
  capture?: string
  date?: string
  tz?: string
  poll?: boolean
  quiet?: boolean
}

/** Runs a watcher until SIGINT/SIGTERM, then flushes and exits 0. */
export async function runWatch(dir: string, flags: WatchFlags): Promise<void> {
  const lock = await writerLock(flags.db)
  const store = openStore(flags.db)
  const watcher = new Watcher(store, {
    dir,
    ...(flags.capture !== undefined ? { capture: flags.capture } : {}),
    ...(flags.date !== undefined ? { date: flags.date } : {}),
    ...(flags.tz !== undefined ? { tz: flags.tz } : {}),
    ...(flags.poll ? { poll: true } : {}),
    onReport: (r) => {
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
        .then((s) => {
          process.stderr.write(
            `stopped: ${String(s.lines)} lines, ${String(s.records)} records, ${String(s.bad)} bad lines ingested\n`,
          )
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
  process.stderr.write(`watching ${escapeControls(dir)} into ${escapeControls(store.path)} (capture id ${String(watcher.captureId)}); Ctrl-C to stop\n`)
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
      .option('-q, --quiet', 'do not report each batch'),
  ).action(async (dir: string, flags: WatchFlags) => {
    await runWatch(dir, flags)
  })
}
