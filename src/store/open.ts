import BetterSqlite3 from 'better-sqlite3'
import { existsSync } from 'node:fs'
import { Kysely, SqliteDialect } from 'kysely'
import { DatabaseError } from '../errors.js'
import { loadMigrations, migrate, type MigrationResult } from './migrate.js'
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

/**
 * Refuses a PostgreSQL URL where a SQLite file is needed: tracedb ingests
 * and derives into the local file only; PostgreSQL is read (`--db URL`) and
 * filled by `tracedb push`.
 */
export function assertLocalStore(path: string): void {
  if (/^postgres(ql)?:\/\//i.test(path)) {
    throw new DatabaseError(`${path.replace(/:[^:@/]*@/, ':***@')}: this command needs a local SQLite file`, {
      hint: 'ingest, watch and record into a SQLite --db and ship it with tracedb push --to URL; the reading commands (query, sql, schema, export, compare, check) take --db URL',
    })
  }
}

/**
 * Opens a tracedb database. A writable open creates the file and applies
 * pending migrations (the caller holds the writer lock: see lock.ts). A
 * read-only open never changes the file: a database that needs migrating is
 * refused, naming `tracedb migrate`, since upgrading it here would write
 * without the writer lock.
 */
export function openStore(path: string, options: OpenOptions = {}): Store {
  assertLocalStore(path)
  const sqlite = connect(path, options)
  try {
    if (options.readonly) refusePending(sqlite, path)
    else prepareForWriting(sqlite)
  } catch (cause) {
    sqlite.close()
    throw asDatabaseError(cause, path)
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

/**
 * Applies the pending migrations of an existing tracedb database and says
 * which (`tracedb migrate`). The caller holds the writer lock.
 */
export function migrateStore(path: string, options: Pick<OpenOptions, 'busyTimeoutMs'> = {}): MigrationResult {
  if (path !== ':memory:' && !existsSync(path)) throw missing(path)
  const sqlite = connect(path, options)
  try {
    // a SQLite file of something else must not get tracedb's tables
    if (!hasMigrationsTable(sqlite)) throw notTracedb(path)
    return prepareForWriting(sqlite)
  } catch (cause) {
    throw asDatabaseError(cause, path)
  } finally {
    sqlite.close()
  }
}

function missing(path: string): DatabaseError {
  return new DatabaseError(`database "${path}" does not exist`, {
    hint: 'run `tracedb ingest DIR` first, or point --db / TRACEDB_DB at an existing database',
  })
}

function notTracedb(path: string): DatabaseError {
  return new DatabaseError(`"${path}" is not a tracedb database (no _tracedb_migrations table)`, {
    hint: 'run `tracedb ingest` into it first, or choose the right file with --db',
  })
}

function connect(path: string, options: OpenOptions): BetterSqlite3.Database {
  if (options.readonly && path !== ':memory:' && !existsSync(path)) throw missing(path)
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
  } catch (cause) {
    sqlite.close()
    throw asDatabaseError(cause, path)
  }
  return sqlite
}

function prepareForWriting(sqlite: BetterSqlite3.Database): MigrationResult {
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('foreign_keys = OFF')
  return migrate(sqlite)
}

/** Known errors pass through; SQLite's become a DatabaseError with a hint. */
function asDatabaseError(cause: unknown, path: string): DatabaseError {
  if (cause instanceof DatabaseError) return cause
  const message = (cause as Error).message
  return new DatabaseError(`cannot use database "${path}": ${message}`, {
    hint: /not a database|malformed/i.test(message)
      ? 'the file is not a tracedb database or is corrupt; use another --db path'
      : 'check that the file is a tracedb database and not in use by another program',
    cause,
  })
}

function hasMigrationsTable(sqlite: BetterSqlite3.Database): boolean {
  return (
    sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_tracedb_migrations'").get() !==
    undefined
  )
}

/** Checks a database opened read-only: a tracedb database this version reads as it is. */
function refusePending(sqlite: BetterSqlite3.Database, path: string): void {
  if (!hasMigrationsTable(sqlite)) throw notTracedb(path)
  const migrations = loadMigrations()
  const known = new Set(migrations.map((m) => m.name))
  const done = new Set(sqlite.prepare('SELECT name FROM _tracedb_migrations').pluck().all() as string[])
  const unknown = [...done].filter((n) => !known.has(n)).sort()
  if (unknown.length > 0) {
    throw new DatabaseError(`database was written by a newer tracedb: unknown migration "${unknown.at(-1) ?? ''}"`, {
      hint: 'upgrade tracedb, or use a new database file with --db',
    })
  }
  const pending = migrations.filter((m) => !done.has(m.name)).map((m) => m.name)
  if (pending.length > 0) {
    const count = `${String(pending.length)} migration${pending.length === 1 ? '' : 's'}`
    const names = pending.length <= 3 ? pending.join(', ') : `${pending[0] ?? ''} … ${pending.at(-1) ?? ''}`
    throw new DatabaseError(`"${path}" was written by an older tracedb: ${count} pending (${names})`, {
      hint: `upgrade it with \`tracedb migrate --db ${path}\` (or ingest into it), which takes the writer lock; reading never changes the database`,
    })
  }
}
