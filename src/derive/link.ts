import { valuesSql } from '../store/batch.js'
import { tableColumns } from '../store/tables.js'
import { batchOf, chunks, IN_LIST, jsonList, stmt, type DeriveContext } from './context.js'

/**
 * Links every other tool's events to process instances: `process_id` of a
 * row is the instance of its PID that was alive at the row's time. A PID is
 * not an identity (PIDs are reused), so the instance is the one of that PID
 * that started last at or before the event (with a second of slack for
 * second-precision clocks); an event before every known start belongs to the
 * first instance (the process was already running). An event more than
 * that second after the instance's exit, before the PID's next known
 * instance, belongs to a process the capture did not see: it stays
 * unlinked. A row without a time is linked only when its PID has a single
 * instance.
 *
 * Rows that print a thread ID and no PID (Python sofdsnoop, opensnoop -t)
 * are linked by TID when an instance has that PID: the main thread of a
 * process, or a single-threaded one, has TID = PID.
 *
 * Incremental: a pass links the rows new since the capture's watermark and
 * links again the rows of the PIDs whose instances changed; nothing else
 * can change a row's instance.
 */

/** Slack, in µs, for second-precision print-time clocks. */
const TOLERANCE = 1_000_000

/** Tables linked here: execsnoop and exitsnoop (whole-process rows) are linked by process derivation itself. */
const SKIP = new Set(['execsnoop_event', 'exitsnoop_event'])

/** Rows read (and their changes written) per round: bounds the memory used. */
const PAGE = 10_000

/** One instance of a PID, in µs (for {@link instanceAt}). */
export interface Span {
  readonly id: number
  readonly start: number
  /** when the exit was captured */
  readonly exit?: number
}

/** Instances of some PIDs as columns sorted by PID, then start (unknown first), then id. */
interface Instances {
  readonly pid: Int32Array
  /** µs; -Infinity when unknown */
  readonly start: Float64Array
  /** µs; +Infinity when the exit was not captured */
  readonly exit: Float64Array
  readonly id: Float64Array
}

/** The instances (placeholders included) of `pids`. */
function loadInstances(ctx: DeriveContext, pids: readonly number[]): Instances {
  const rows = stmt(
    ctx.sqlite,
    `SELECT id, pid, coalesce(start_ts, exec_ts, exit_ts) / 1000, exit_ts / 1000 FROM process
     WHERE capture_id = ? AND pid ${IN_LIST}`,
  )
    .raw()
    .all(ctx.captureId, jsonList(pids)) as [number, number, number | null, number | null][]
  const start = (s: number | null): number => s ?? Number.NEGATIVE_INFINITY
  rows.sort((a, b) => a[1] - b[1] || start(a[2]) - start(b[2]) || a[0] - b[0])
  return {
    pid: Int32Array.from(rows, (r) => r[1]),
    start: Float64Array.from(rows, (r) => start(r[2])),
    exit: Float64Array.from(rows, (r) => r[3] ?? Number.POSITIVE_INFINITY),
    id: Float64Array.from(rows, (r) => r[0]),
  }
}

/** The instance of `pid` alive at `ts` (µs): binary search for the PID's range, then the rules above. */
function lookup(inst: Instances, pid: number, ts: number | null): number | null {
  let lo = 0
  let hi = inst.pid.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (inst.pid[mid]! < pid) lo = mid + 1
    else hi = mid
  }
  if (lo === inst.pid.length || inst.pid[lo] !== pid) return null
  if (ts === null) return lo + 1 === inst.pid.length || inst.pid[lo + 1] !== pid ? inst.id[lo]! : null
  let pick = lo
  for (let k = lo + 1; k < inst.pid.length && inst.pid[k] === pid; k++) {
    if (inst.start[k]! <= ts + TOLERANCE) pick = k
    else break
  }
  // after that instance's exit, and before the next one started: a process
  // the capture did not see (its exec and exit were missed), not this one
  if (ts > inst.exit[pick]! + TOLERANCE) return null
  return inst.id[pick]!
}

/**
 * The instance alive at `ts` (µs) among one PID's instances in start order:
 * {@link lookup}'s rule, for callers that hold a single PID's spans.
 */
export function instanceAt(spans: readonly Span[], ts: number | null): number | null {
  const inst: Instances = {
    pid: new Int32Array(spans.length),
    start: Float64Array.from(spans, (s) => s.start),
    exit: Float64Array.from(spans, (s) => s.exit ?? Number.POSITIVE_INFINITY),
    id: Float64Array.from(spans, (s) => s.id),
  }
  return lookup(inst, 0, ts)
}

/** Rows to link: [key (line_id or rowid), pid, ts µs, current process_id]. */
type Row = [number, number | null, number | null, number | null]

/** Links `rows` (loading the instances of their PIDs) and writes the changed ones; returns how many changed. */
export function linkRows(ctx: DeriveContext, rows: readonly Row[], table: string, key: string): number {
  if (rows.length === 0) return 0
  const pids = [...new Set(rows.map((r) => r[1]).filter((p): p is number => p !== null))]
  const inst = loadInstances(ctx, pids)
  const update = batchOf(
    ctx.sqlite,
    (n) => `UPDATE "${table}" SET process_id = v.column2 FROM (VALUES ${valuesSql(2, n)}) AS v WHERE "${table}".${key} = v.column1`,
    2,
  )
  let changed = 0
  for (const [rowKey, pid, ts, current] of rows) {
    const want = pid === null ? null : lookup(inst, pid, ts)
    if (want === current) continue
    update.values.push(rowKey, want)
    update.added()
    changed++
  }
  update.flush()
  return changed
}

/** Pages through the rows `select(after, ...params)` returns (keyed by their first column, ascending) and links them. */
function linkPaged(ctx: DeriveContext, select: (after: number) => Row[], table: string, key: string): number {
  let changed = 0
  let after = -Infinity
  for (;;) {
    // better-sqlite3 cannot write while a read is open: read a page, then write it
    const page = select(after)
    changed += linkRows(ctx, page, table, key)
    if (page.length < PAGE) return changed
    after = page[page.length - 1]![0]
  }
}

/** A table whose rows are linked here: its PID expression, and which of its rows. */
interface Linked {
  readonly table: string
  readonly pid: string
  readonly hasTid: boolean
  /** a condition on the rows, or `true` */
  readonly rows: string
}

const linkedCache = new WeakMap<DeriveContext['sqlite'], readonly Linked[]>()

/**
 * The event tables other tools' rows are linked in (read once per
 * connection: the schema does not change under a running derivation), and
 * exitsnoop's per-thread rows (-T / --per-thread): a thread's exit belongs to
 * its process, whole-process rows are linked by process derivation.
 */
function linkedTables(ctx: DeriveContext): readonly Linked[] {
  const cached = linkedCache.get(ctx.sqlite)
  if (cached) return cached
  const tables = (
    ctx.sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_event' ESCAPE '\\' ORDER BY name").pluck().all() as string[]
  ).filter((t) => !SKIP.has(t))
  const out: Linked[] = []
  for (const table of tables) {
    const cols = tableColumns(ctx.sqlite, table)
    if (!cols.has('process_id') || !cols.has('pid')) continue
    out.push({ table, pid: cols.has('tid') ? 'coalesce(pid, tid)' : 'pid', hasTid: cols.has('tid'), rows: 'true' })
  }
  out.push({ table: 'exitsnoop_event', pid: 'pid', hasTid: false, rows: 'tid IS NOT NULL AND tid <> pid' })
  linkedCache.set(ctx.sqlite, out)
  return out
}

/**
 * Links the event rows of the capture newer than `since` (a line id), and
 * again those of `changedPids`; returns the number of rows changed.
 */
export function linkEvents(ctx: DeriveContext, since: number, changedPids: ReadonlySet<number>): number {
  const { sqlite, captureId } = ctx
  // from scratch every row is new: there is nothing older to link again
  const changed = since === 0 ? [] : [...changedPids]
  let n = 0
  for (const { table, pid, hasTid, rows } of linkedTables(ctx)) {
    const fresh = stmt(
      sqlite,
      `SELECT line_id, ${pid}, ts / 1000, process_id FROM "${table}" WHERE line_id > ? AND +capture_id = ? AND ${rows} ORDER BY line_id LIMIT ?`,
    ).raw()
    n += linkPaged(ctx, (after) => fresh.all(Math.max(after, since), captureId, PAGE) as Row[], table, 'line_id')
    if (changed.length === 0) continue
    const ofPids = stmt(
      sqlite,
      `SELECT line_id, ${pid}, ts / 1000, process_id FROM "${table}" WHERE capture_id = ? AND pid ${IN_LIST} AND line_id <= ? AND ${rows}` +
        (hasTid ? ` UNION ALL SELECT line_id, tid, ts / 1000, process_id FROM "${table}" WHERE capture_id = ? AND pid IS NULL AND tid ${IN_LIST} AND line_id <= ?` : ''),
    ).raw()
    for (const chunk of chunks(changed)) {
      const list = jsonList(chunk)
      const got = (hasTid ? ofPids.all(captureId, list, since, captureId, list, since) : ofPids.all(captureId, list, since)) as Row[]
      n += linkRows(ctx, got, table, 'line_id')
    }
  }
  n += linkConnectionPids(ctx, changed)
  return n
}

/** The PIDs seen on TCP connections, of the PIDs whose instances changed (new rows are linked when written). */
function linkConnectionPids(ctx: DeriveContext, changed: readonly number[]): number {
  const ofPids = stmt(ctx.sqlite, `SELECT rowid, pid, ts / 1000, process_id FROM tcp_connection_pid WHERE capture_id = ? AND pid ${IN_LIST}`)
    .raw()
  let n = 0
  for (const chunk of chunks(changed)) n += linkRows(ctx, ofPids.all(ctx.captureId, jsonList(chunk)) as Row[], 'tcp_connection_pid', 'rowid')
  return n
}
