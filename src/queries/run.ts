import { QueryError } from '../errors.js'
import type { Store } from '../store/open.js'
import { coerce, usedParams, type NamedQuery } from './catalog.js'

export type Value = string | number | bigint | Buffer | null

/** The rows of a query, with column names in order. */
export interface QueryResult {
  readonly columns: readonly string[]
  readonly rows: readonly Record<string, Value>[]
}

export interface CaptureInfo {
  readonly id: number
  readonly name: string
}

/** The capture named `name`, or the most recently ingested one. */
export function resolveCapture(store: Store, name?: string): CaptureInfo {
  if (name !== undefined) {
    const row = store.sqlite.prepare('SELECT id, name FROM capture WHERE name = ?').get(name) as CaptureInfo | undefined
    if (!row) {
      const known = store.sqlite.prepare('SELECT name FROM capture ORDER BY id').pluck().all() as string[]
      throw new QueryError(`capture "${name}" not found`, {
        hint: known.length ? `known captures: ${known.join(', ')}` : 'ingest a directory first: tracedb ingest DIR',
      })
    }
    return row
  }
  const row = store.sqlite
    .prepare('SELECT id, name FROM capture ORDER BY updated_at DESC, id DESC LIMIT 1')
    .get() as CaptureInfo | undefined
  if (!row) {
    throw new QueryError('the database has no captures yet', { hint: 'ingest logs first: tracedb ingest DIR' })
  }
  return row
}

/**
 * Binds arguments to a named query's parameters: positional `args` fill the
 * declared parameters in order, `named` (`-p name value`) by name; missing
 * ones take their default. Values are always bound, never spliced.
 */
export function bindParams(
  query: NamedQuery,
  args: readonly string[],
  named: Readonly<Record<string, string>> = {},
): Record<string, string | number | null> {
  if (args.length > query.params.length) {
    throw new QueryError(
      `query "${query.name}" takes ${String(query.params.length)} argument(s), got ${String(args.length)}`,
      { hint: `see: tracedb query ${query.name} --help` },
    )
  }
  for (const key of Object.keys(named)) {
    if (!query.params.some((p) => p.name === key)) {
      throw new QueryError(`query "${query.name}" has no parameter "${key}"`, {
        hint: `its parameters: ${query.params.map((p) => p.name).join(', ') || 'none'}`,
      })
    }
  }
  const out: Record<string, string | number | null> = {}
  query.params.forEach((p, i) => {
    const given = named[p.name] ?? args[i]
    if (given !== undefined) out[p.name] = coerce(given, p.type, p.name, query.name)
    else if ('default' in p) out[p.name] = p.default ?? null
    else {
      throw new QueryError(`query "${query.name}" needs parameter "${p.name}" (${p.type}): ${p.description}`, {
        hint: `e.g. tracedb query ${query.name} ${query.params
          .filter((q) => !('default' in q))
          .map((q) => q.name.toUpperCase())
          .join(' ')}`,
      })
    }
  })
  return out
}

/**
 * Runs a named query with bound parameters against one capture.
 *
 * ### Examples
 * ```ts
 * const q = loadCatalog().get('descendants')!
 * const { rows } = runQuery(store, q, { pid: 1442 }, resolveCapture(store).id)
 * ```
 */
export function runQuery(
  store: Store,
  query: NamedQuery,
  params: Readonly<Record<string, string | number | null>>,
  captureId: number | null,
): QueryResult {
  return runSql(store, query.sql, { ...params, capture: captureId }, query.name)
}

/** Runs one SQL statement, binding only the named parameters it uses. */
export function runSql(
  store: Store,
  sql: string,
  params: Readonly<Record<string, string | number | null>> = {},
  label = 'sql',
): QueryResult {
  let stmt
  try {
    stmt = store.sqlite.prepare(sql)
  } catch (cause) {
    throw new QueryError(`${label}: ${(cause as Error).message}`, {
      cause,
      hint: 'check the SQL; `tracedb schema` lists tables, views and columns',
    })
  }
  const used = usedParams(sql)
  const bound = Object.fromEntries(Object.entries(params).filter(([k]) => used.has(k)))
  try {
    if (!stmt.reader) {
      stmt.run(bound)
      return { columns: [], rows: [] }
    }
    const columns = stmt.columns().map((c) => c.name)
    const rows = stmt.all(bound) as Record<string, Value>[]
    return { columns, rows }
  } catch (cause) {
    throw new QueryError(`${label}: ${(cause as Error).message}`, { cause })
  }
}
