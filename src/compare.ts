import { QueryError } from './errors.js'
import { loadCatalog, QUERIES_DIR, type NamedQuery } from './queries/catalog.js'
import { bindParams, type CaptureInfo, type QueryResult, type Value } from './queries/run.js'
import type { Reader } from './store/reader.js'

export interface CompareOptions {
  /** Capture of side A (name); default: the most recently ingested. */
  readonly captureA?: string
  /** Capture of side B (name); default: the same as A. */
  readonly captureB?: string
  /** Host of capture A, where several hosts share the store. */
  readonly hostA?: string
  /** Host of capture B; default: host A when capture B is not given, else any. */
  readonly hostB?: string
  /** Root PID of side A. */
  readonly pidA: number
  /** Root PID of side B; default: `pidA`. */
  readonly pidB?: number
  /**
   * The summary-shaped query: a name looked up in `queries/` (plus
   * `queries` dirs), or a loaded query. Default `summary`. It must take a
   * `pid` parameter and return `section`, `item` and `value` columns.
   */
  readonly query?: string | NamedQuery
  /** Extra directories of named queries (like `tracedb query --queries`). */
  readonly queries?: readonly string[]
}

/** A comparison: `section, item, A, B, change` rows, and what A and B were. */
export interface CompareResult extends QueryResult {
  readonly query: string
  readonly a: { readonly capture: CaptureInfo; readonly pid: number }
  readonly b: { readonly capture: CaptureInfo; readonly pid: number }
}

export const COMPARE_COLUMNS = ['section', 'item', 'A', 'B', 'change'] as const

type Row = Record<string, Value>

const asNumber = (v: Value): number | null =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null

/** A difference for people: 3 decimals, or 3 significant digits when smaller than that. */
function fmt(n: number): string {
  if (Number.isInteger(n) || n === 0) return String(n)
  const decimals = Math.max(3, 2 - Math.floor(Math.log10(Math.abs(n))))
  return String(Number(n.toFixed(Math.min(decimals, 20))))
}

function same(a: Value, b: Value): boolean {
  const na = asNumber(a)
  const nb = asNumber(b)
  if (na !== null && nb !== null) {
    if (na === nb || (Number.isInteger(na) && Number.isInteger(nb))) return na === nb
    // reals: equal up to floating-point noise (sums of REALs in SQL)
    return Math.abs(na - nb) <= 1e-9 * Math.max(Math.abs(na), Math.abs(nb))
  }
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b)
  return a === b
}

/**
 * What changed from `a` to `b`: `''` when equal, `-125 (-97.7%)` for
 * numbers (no percentage from 0 or below 0.05%), `changed` otherwise.
 */
export function describeChange(a: Value, b: Value): string {
  if (same(a, b)) return ''
  const na = asNumber(a)
  const nb = asNumber(b)
  if (na === null || nb === null) return 'changed'
  const diff = nb - na
  const sign = diff > 0 ? '+' : ''
  const abs = `${sign}${fmt(diff)}`
  const pct = na === 0 ? 0 : Math.round((diff / Math.abs(na)) * 1000) / 10
  if (pct === 0) return abs
  return `${abs} (${pct > 0 ? '+' : ''}${String(pct)}%)`
}

function pickQuery(options: CompareOptions): NamedQuery {
  const query = options.query ?? 'summary'
  if (typeof query !== 'string') return query
  const catalog = loadCatalog([QUERIES_DIR, ...(options.queries ?? [])])
  const q = catalog.get(query)
  if (!q) {
    throw new QueryError(`query "${query}" not found`, {
      hint: `compare runs a summary-shaped query (a pid parameter; section, item, value columns); known queries: ${[...catalog.keys()].sort().join(', ')}`,
    })
  }
  return q
}

async function runSide(reader: Reader, q: NamedQuery, capture: CaptureInfo, pid: number): Promise<Row[]> {
  const result = await reader.runNamed(q, bindParams(q, [], { pid: String(pid) }), capture.id)
  const missing = ['section', 'item', 'value'].filter((c) => !result.columns.includes(c))
  if (missing.length) {
    throw new QueryError(
      `query "${q.name}" returns columns ${result.columns.join(', ') || '(none)'}, compare needs section, item and value`,
      { hint: `write it like queries/summary.sql: SELECT section, item, value, detail ... (${q.path})` },
    )
  }
  return result.rows as Row[]
}

const keyOf = (r: Row): string => JSON.stringify([r.section === null ? null : String(r.section), r.item === null ? null : String(r.item)])

/**
 * Runs a summary-shaped query (default `summary`) for the tree of `pidA` in
 * capture A and of `pidB` in capture B and joins the rows by
 * (section, item): A's rows in order, then the rows only B has. A key that
 * repeats on one side pairs its n-th occurrence with the n-th on the other.
 *
 * ### Examples
 * ```ts
 * const { rows } = await compareSummaries(reader, { captureA: 'before', captureB: 'after', pidA: 1442, pidB: 1501 })
 * // { section: 'descendants', item: 'total', A: 128, B: 3, change: '-125 (-97.7%)' }
 * ```
 */
export async function compareSummaries(reader: Reader, options: CompareOptions): Promise<CompareResult> {
  const q = pickQuery(options)
  if (!q.params.some((p) => p.name === 'pid')) {
    throw new QueryError(`query "${q.name}" has no pid parameter, so it cannot summarise a process tree`, {
      hint: `compare needs a query with "-- @param pid integer ..." returning section, item, value (${q.path})`,
    })
  }
  const captureA = await reader.resolveCapture({ name: options.captureA, host: options.hostA })
  const captureB =
    options.captureB === undefined && options.hostB === undefined
      ? captureA
      : await reader.resolveCapture({ name: options.captureB ?? captureA.name, host: options.hostB ?? (options.captureB === undefined ? options.hostA : undefined) })
  const pidA = options.pidA
  const pidB = options.pidB ?? options.pidA
  const rowsA = await runSide(reader, q, captureA, pidA)
  const rowsB = await runSide(reader, q, captureB, pidB)

  // B's rows by key, in order; matched ones are taken from the front
  const byKey = new Map<string, Row[]>()
  for (const r of rowsB) {
    const k = keyOf(r)
    const list = byKey.get(k)
    if (list) list.push(r)
    else byKey.set(k, [r])
  }
  const matched = new Set<Row>()
  const rows: Row[] = []
  for (const a of rowsA) {
    const b = byKey.get(keyOf(a))?.find((r) => !matched.has(r))
    if (b) {
      matched.add(b)
      rows.push({ section: a.section ?? null, item: a.item ?? null, A: a.value ?? null, B: b.value ?? null, change: describeChange(a.value ?? null, b.value ?? null) })
    } else {
      rows.push({ section: a.section ?? null, item: a.item ?? null, A: a.value ?? null, B: null, change: 'gone' })
    }
  }
  for (const b of rowsB) {
    if (!matched.has(b)) rows.push({ section: b.section ?? null, item: b.item ?? null, A: null, B: b.value ?? null, change: 'new' })
  }
  return {
    columns: [...COMPARE_COLUMNS],
    rows,
    query: q.name,
    a: { capture: captureA, pid: pidA },
    b: { capture: captureB, pid: pidB },
  }
}
