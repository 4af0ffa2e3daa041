import type BetterSqlite3 from 'better-sqlite3'
import { RowBatch, ROWS_PER_STATEMENT } from '../store/batch.js'

/** What one derivation pass works with: the connection, the capture, and what it learnt on the way. */
export interface DeriveContext {
  readonly sqlite: BetterSqlite3.Database
  readonly captureId: number
  /** order of each source of the capture by path (ties of time are broken by file order) */
  readonly rank: ReadonlyMap<number, number>
}

export function deriveContext(sqlite: BetterSqlite3.Database, captureId: number): DeriveContext {
  const rank = new Map<number, number>()
  ;(stmt(sqlite, 'SELECT id FROM source WHERE capture_id = ? ORDER BY path, id').pluck().all(captureId) as number[]).forEach(
    (id, i) => rank.set(id, i),
  )
  return { sqlite, captureId, rank }
}

/** `IN (SELECT value FROM json_each(?))`: a list of numbers bound as one JSON parameter, probed through the index. */
export const IN_LIST = 'IN (SELECT value FROM json_each(?))'

export const jsonList = (values: Iterable<number>): string => JSON.stringify([...values])

/** Values per `IN` list: bounds the size of one statement's work and of the rows held at once. */
export const CHUNK = 5_000

export function* chunks<T>(values: readonly T[], size = CHUNK): Generator<T[]> {
  for (let i = 0; i < values.length; i += size) yield values.slice(i, i + size)
}

/** Hands out ids of `name` (process, tcp_connection) that were never given before. */
export function allocateIds(sqlite: BetterSqlite3.Database, name: string, count: number): number {
  if (count === 0) return 0
  const first = stmt(sqlite, 'UPDATE id_sequence SET next_id = next_id + ? WHERE name = ? RETURNING next_id - ?')
    .pluck()
    .get(count, name, count) as number | undefined
  if (first === undefined) throw new Error(`id_sequence has no row "${name}"`)
  return first
}

/** A µs time read from SQL (NULL → NaN). */
export const us = (v: number | null): number => (v === null ? NaN : v)

const statements = new WeakMap<BetterSqlite3.Database, Map<string, BetterSqlite3.Statement>>()

/**
 * The prepared statement of `sql`, prepared once per connection: a batch
 * runs the same few dozen statements, and preparing them anew each time
 * cost more than the work of a small batch.
 */
export function stmt(sqlite: BetterSqlite3.Database, sql: string): BetterSqlite3.Statement {
  let cache = statements.get(sqlite)
  if (!cache) {
    cache = new Map()
    statements.set(sqlite, cache)
  }
  let s = cache.get(sql)
  if (!s) {
    s = sqlite.prepare(sql)
    cache.set(sql, s)
  }
  return s
}

/** A {@link RowBatch} of cached statements. */
export function batchOf(sqlite: BetterSqlite3.Database, sql: (rows: number) => string, width: number): RowBatch {
  return new RowBatch(stmt(sqlite, sql(1)), stmt(sqlite, sql(ROWS_PER_STATEMENT)), width)
}
