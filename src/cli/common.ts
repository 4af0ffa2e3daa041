import type { Command } from 'commander'
import { acquireWriterLock, type WriterLock } from '../store/lock.js'
import { DEFAULT_DB } from '../store/open.js'
import { escapeControls } from './sanitize.js'

export interface CommonFlags {
  db: string
}

/** `--db FILE` on every command (default `$TRACEDB_DB`, else ./tracedb.db). */
export function dbOption(cmd: Command): Command {
  return cmd.option('--db <file>', 'database file (env TRACEDB_DB)', process.env.TRACEDB_DB ?? DEFAULT_DB)
}

export function isTty(stream: NodeJS.WriteStream): boolean {
  return stream.isTTY && !process.env.NO_COLOR
}

/** Takes the database's writer lock, telling the user when it has to wait. */
export function writerLock(db: string): Promise<WriterLock> {
  return acquireWriterLock(db, {
    onWait: (pid) => process.stderr.write(`waiting for tracedb pid ${String(pid)}, which is writing to ${escapeControls(db)}...\n`),
  })
}
