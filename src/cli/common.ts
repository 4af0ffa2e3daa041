import type { Command } from 'commander'
import { acquireWriterLock, type WriterLock } from '../store/lock.js'
import { assertLocalStore, DEFAULT_DB } from '../store/open.js'
import { escapeControls } from './sanitize.js'

export interface CommonFlags {
  db: string
}

/** `--db FILE` on every command (default `$TRACEDB_DB`, else ./tracedb.db). */
export function dbOption(cmd: Command): Command {
  return cmd.option('--db <file>', 'database file, or a postgres:// URL where commands only read (env TRACEDB_DB)', process.env.TRACEDB_DB ?? DEFAULT_DB)
}

/** `--capture NAME` and `--host H`: which capture a reading command looks at. */
export function captureOptions(cmd: Command, what = 'capture to read'): Command {
  return cmd
    .option('-c, --capture <name>', `${what} (default: the most recently updated)`)
    .option('--host <host>', 'the host the capture was recorded on (where several hosts pushed to one store)')
}

export function isTty(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY && !process.env.NO_COLOR
}

/** Takes the database's writer lock, telling the user when it has to wait. */
export function writerLock(db: string): Promise<WriterLock> {
  assertLocalStore(db)
  return acquireWriterLock(db, {
    onWait: (pid) => process.stderr.write(`waiting for tracedb pid ${String(pid)}, which is writing to ${escapeControls(db)}...\n`),
  })
}
