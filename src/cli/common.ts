import type { Command } from 'commander'
import { DEFAULT_DB } from '../store/open.js'

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
