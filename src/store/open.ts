import BetterSqlite3 from 'better-sqlite3'
import { existsSync } from 'node:fs'
import { Kysely, SqliteDialect } from 'kysely'
import { DatabaseError } from '../errors.js'
import { loadMigrations, migrate } from './migrate.js'
import type { Database } from './schema.js'

/** The default database file, relative to the working directory. */
export const DEFAULT_DB = 'tracedb.db'

export interface OpenOptions {
  /** Open read-only (queries, `tracedb sql`); the file must exist. */
  readonly readonly?: boolean
  /** Milliseconds to wait for another writer before failing. */
  readonly busyTimeoutMs?: number
}

/**
 * A tracedb database: the better-sqlite3 handle (for the hot insert path and
 * raw SQL) and a typed Kysely instance over it (for everything else).
 *
 * ### Examples
 * ```ts
 * const store = openStore('tracedb.db')
 * const captures = await store.db.selectFrom('capture').selectAll().execute()
 * store.close()
 * ```
 */
export interface Store {
  readonly path: string
  readonly sqlite: BetterSqlite3.Database
  readonly db: Kysely<Database>
  close(): void
}

export function openStore(path: string, options: OpenOptions = {}): Store {
  if (options.readonly && path !== ':memory:' && !existsSync(path)) {
    throw new DatabaseError(`database "${path}" does not exist`, {
      hint: 'run `tracedb ingest DIR` first, or point --db / TRACEDB_DB at an existing database',
    })
  }
  let sqlite: BetterSqlite3.Database
  try {
    sqlite = new BetterSqlite3(path, { readonly: options.readonly ?? false })
  } catch (cause) {
    throw new DatabaseError(`cannot open database "${path}": ${(cause as Error).message}`, {
      hint: 'check the path and its permissions',
      cause,
    })
  }
  try {
    sqlite.pragma(`busy_timeout = ${String(options.busyTimeoutMs ?? 10_000)}`)
    if (!options.readonly) {
      sqlite.pragma('journal_mode = WAL')
      sqlite.pragma('synchronous = NORMAL')
      sqlite.pragma('foreign_keys = OFF')
      migrate(sqlite)
    } else if (checkVersion(sqlite, path)) {
      // written by an older tracedb: upgrade it once, then read as asked
      sqlite.close()
      openStore(path, { ...options, readonly: false }).close()
      return openStore(path, options)
    }
  } catch (cause) {
    sqlite.close()
    if (cause instanceof DatabaseError) throw cause
    const message = (cause as Error).message
    throw new DatabaseError(`cannot use database "${path}": ${message}`, {
      hint: /not a database|malformed/i.test(message)
        ? 'the file is not a tracedb database or is corrupt; use another --db path'
        : 'check that the file is a tracedb database and not in use by another program',
      cause,
    })
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) })
  return {
    path,
    sqlite,
    db,
    close() {
      sqlite.close()
    },
  }
}

/** Checks a database opened read-only; true when migrations are pending. */
function checkVersion(sqlite: BetterSqlite3.Database, path: string): boolean {
  const table = sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_tracedb_migrations'")
    .get()
  if (!table) {
    throw new DatabaseError(`"${path}" is not a tracedb database (no _tracedb_migrations table)`, {
      hint: 'run `tracedb ingest` into it first, or choose the right file with --db',
    })
  }
  const known = new Set(loadMigrations().map((m) => m.name))
  const done = sqlite.prepare('SELECT name FROM _tracedb_migrations').pluck().all() as string[]
  const unknown = done.filter((n) => !known.has(n)).sort()
  if (unknown.length > 0) {
    throw new DatabaseError(`database was written by a newer tracedb: unknown migration "${unknown.at(-1) ?? ''}"`, {
      hint: 'upgrade tracedb, or use a new database file with --db',
    })
  }
  return done.length < known.size
}
