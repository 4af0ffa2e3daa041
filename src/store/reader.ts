/**
 * The read side of a tracedb store, one interface for every engine.
 *
 * Ingest and derivation write to SQLite (src/ingest, src/derive) and keep its
 * speed; everything that only reads — named queries, `sql`, `schema`,
 * `summary`, `why`, `timeline`, `export`, `compare` — goes through a
 * `Reader`, so a command never asks which engine it is talking to. A reader
 * runs every statement in a read-only transaction.
 *
 * ### Examples
 * ```ts
 * const reader = await openReader('tracedb.db')
 * try {
 *   const capture = await reader.resolveCapture()
 *   const q = loadCatalog().get('descendants')!
 *   const { rows } = await reader.runNamed(q, { pid: 1442 }, capture.id)
 * } finally {
 *   await reader.close()
 * }
 * ```
 */
import { existsSync } from 'node:fs'
import { sqlFor, type NamedQuery } from '../queries/catalog.js'
import { refuseWrites } from '../queries/readonly.js'
import { resolveCapture, runSql, type CaptureInfo, type QueryResult } from '../queries/run.js'
import { describeSchema, type SchemaEntry } from './describe.js'
import { openStore, type Store } from './open.js'
import { postgresReader } from './postgres-reader.js'
import { tableExists } from './tables.js'

export type { CaptureInfo, QueryResult } from '../queries/run.js'

export type Engine = 'sqlite' | 'postgres'

/** Parameters bound by name (`:name` in the SQL); never spliced. */
export type Params = Readonly<Record<string, string | number | null>>

export interface CaptureFilter {
  /** The capture's name (`--capture`). Default: the most recently updated. */
  readonly name?: string | undefined
  /** The host it was recorded on (`--host`); matters where several hosts share a store. */
  readonly host?: string | undefined
}

export interface Reader {
  readonly engine: Engine
  /** Where it reads from, fit to print (a file path, or a URL without its password). */
  readonly location: string
  /**
   * Runs one statement, read-only, binding the `:name` parameters it uses.
   * A statement that would write is refused (SQLite: before it runs, see
   * queries/readonly.ts; PostgreSQL: by its read-only transaction).
   */
  run(sql: string, params?: Params, label?: string): Promise<QueryResult>
  /** Runs a named query (its variant for this engine, where it has one) against one capture. */
  runNamed(query: NamedQuery, params: Params, captureId: number | null): Promise<QueryResult>
  /** The capture a command reads: by name (and host), or the most recent. */
  resolveCapture(filter?: CaptureFilter): Promise<CaptureInfo>
  /** Whether a table (or view) exists: a store made before a tool's table has none. */
  hasTable(name: string): Promise<boolean>
  /** Tables and views with what each column means (`tracedb schema`). */
  describe(): Promise<SchemaEntry[]>
  /** What `tracedb check` reports: problems found (none: healthy) and counts. */
  check(full?: boolean): Promise<CheckReport>
  close(): Promise<void>
}

export interface CheckReport {
  readonly problems: readonly string[]
  readonly captures: number
  readonly files: number
  readonly lines: number
  readonly bad: number
  readonly processes: number
}

/** True for a `postgres://` or `postgresql://` URL given to `--db`. */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db)
}

/** A reader over a SQLite file, opened read-only. */
export function sqliteReader(store: Store): Reader {
  return {
    engine: 'sqlite',
    location: store.path,
    run: (sql, params = {}, label = 'sql') =>
      Promise.resolve().then(() => {
        refuseWrites(store.sqlite, sql)
        return runSql(store, sql, params, label)
      }),
    runNamed: (query, params, captureId) =>
      Promise.resolve().then(() => runSql(store, sqlFor(query, 'sqlite'), { ...params, capture: captureId }, query.name)),
    resolveCapture: (filter = {}) => Promise.resolve().then(() => resolveCapture(store, filter.name, filter.host)),
    hasTable: (name) => Promise.resolve(tableExists(store.sqlite, name)),
    describe: () => Promise.resolve().then(() => describeSchema(store)),
    check: (full = false) =>
      Promise.resolve().then(() => {
        const result = store.sqlite.prepare(`PRAGMA ${full ? 'integrity_check' : 'quick_check'}`).pluck().all() as string[]
        const count = (sql: string): number => Number(store.sqlite.prepare(sql).pluck().get())
        return {
          problems: result.length === 1 && result[0] === 'ok' ? [] : result,
          captures: count('SELECT count(*) FROM capture'),
          files: count('SELECT count(*) FROM source'),
          lines: count('SELECT count(*) FROM log_line'),
          bad: count("SELECT count(*) FROM log_line WHERE kind = 'bad'"),
          processes: count('SELECT count(*) FROM process'),
        }
      }),
    close: () => {
      store.close()
      return Promise.resolve()
    },
  }
}

/**
 * A reader for `tracedb schema`: the store `db` names, or, where no SQLite
 * file exists there yet, an empty store with the schema tracedb would create.
 */
export function openSchemaReader(db: string): Promise<Reader> {
  if (isPostgresUrl(db) || existsSync(db)) return openReader(db)
  return Promise.resolve().then(() => sqliteReader(openStore(':memory:')))
}

/**
 * Opens the store `db` names for reading: a SQLite file path (read-only; it
 * must exist and be migrated) or a PostgreSQL URL.
 */
export function openReader(db: string): Promise<Reader> {
  if (isPostgresUrl(db)) return postgresReader(db)
  return Promise.resolve().then(() => sqliteReader(openStore(db, { readonly: true })))
}
