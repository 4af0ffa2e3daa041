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
import type { NamedQuery } from '../queries/catalog.js'
import { resolveCapture, runSql, type CaptureInfo, type QueryResult } from '../queries/run.js'
import { openStore, type Store } from './open.js'

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
  /** Runs one statement, read-only, binding the `:name` parameters it uses. */
  run(sql: string, params?: Params, label?: string): Promise<QueryResult>
  /** Runs a named query (its variant for this engine, where it has one) against one capture. */
  runNamed(query: NamedQuery, params: Params, captureId: number | null): Promise<QueryResult>
  /** The capture a command reads: by name (and host), or the most recent. */
  resolveCapture(filter?: CaptureFilter): Promise<CaptureInfo>
  close(): Promise<void>
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
    run: (sql, params = {}, label = 'sql') => Promise.resolve(runSql(store, sql, params, label)),
    runNamed: (query, params, captureId) =>
      Promise.resolve(runSql(store, query.sql, { ...params, capture: captureId }, query.name)),
    resolveCapture: (filter = {}) => Promise.resolve(resolveCapture(store, filter.name)),
    close: () => {
      store.close()
      return Promise.resolve()
    },
  }
}

/**
 * Opens the store `db` names for reading: a SQLite file path (read-only; it
 * must exist and be migrated) or a PostgreSQL URL.
 */
export function openReader(db: string): Promise<Reader> {
  if (isPostgresUrl(db)) {
    return Promise.reject(new Error('PostgreSQL stores are not supported yet'))
  }
  return Promise.resolve(sqliteReader(openStore(db, { readonly: true })))
}
