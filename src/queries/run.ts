import { QueryError } from '../errors.js'
import type { Store } from '../store/open.js'
import { tableColumns } from '../store/tables.js'
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
  /** The host it was recorded on, where the store knows it. */
  readonly host?: string | null
}

/**
 * The capture named `name` (recorded on `host`, when given), or the most
 * recently updated one (on `host`).
 */
export function resolveCapture(store: Store, name?: string, host?: string): CaptureInfo {
  const hasHost = tableColumns(store.sqlite, 'capture').has('host')
  if (host !== undefined && !hasHost) {
    throw new QueryError(`--host ${host}: this database does not record hosts yet`, {
      hint: `run tracedb migrate --db ${store.path} (it adds capture.host), or leave out --host`,
    })
  }
  const cols = hasHost ? 'id, name, host' : 'id, name'
  const where = [name === undefined ? '' : 'name = :name', host === undefined ? '' : 'host = :host'].filter(Boolean)
  const row = store.sqlite
    .prepare(`SELECT ${cols} FROM capture ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at DESC, id DESC LIMIT 1`)
    .get({ ...(name === undefined ? {} : { name }), ...(host === undefined ? {} : { host }) }) as CaptureInfo | undefined
  if (row) return row
  if (name === undefined && host === undefined) {
    throw new QueryError('the database has no captures yet', { hint: 'ingest logs first: tracedb ingest DIR' })
  }
  const known = store.sqlite.prepare(`SELECT ${hasHost ? "coalesce(host, '?') || ':' || name" : 'name'} FROM capture ORDER BY id`).pluck().all() as string[]
  const what = name === undefined ? `on host "${host ?? ''}"` : host === undefined ? `"${name}"` : `"${name}" on host "${host}"`
  throw new QueryError(`capture ${what} not found`, {
    hint: known.length ? `known captures${hasHost ? ' (host:name)' : ''}: ${known.join(', ')}` : 'ingest a directory first: tracedb ingest DIR',
  })
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
