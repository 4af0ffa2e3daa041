import type BetterSqlite3 from 'better-sqlite3'
import { RowBatch, valuesSql } from '../store/batch.js'
import { tableColumns } from '../store/tables.js'

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
 * ### Memory and speed
 * The instances are held as typed arrays sorted by (PID, start), a PID's
 * instances found by binary search (a million processes take ~20 MB, not
 * the ~150 MB of a Map of span objects). Event rows are read in pages of
 * line ids (a table scan in line order: the updates that follow touch each
 * page once, where the (capture_id, pid) index order would visit pages at
 * random), and only rows whose instance changed are written.
 */

/** Slack, in µs, for second-precision print-time clocks. */
const TOLERANCE = 1_000_000

/** Tables linked here: execsnoop and exitsnoop are linked by process derivation itself. */
const SKIP = new Set(['execsnoop_event', 'exitsnoop_event'])

/** Rows read (and their changes written) per round: bounds the memory used. */
const PAGE = 50_000

/** One instance of a PID, in µs (for {@link instanceAt}). */
export interface Span {
  readonly id: number
  readonly start: number
  /** when the exit was captured */
  readonly exit?: number
}

/** The instances of a capture as columns sorted by PID, then start (unknown first), then id. */
interface Instances {
  readonly pid: Int32Array
  /** µs; -Infinity when unknown */
  readonly start: Float64Array
  /** µs; +Infinity when the exit was not captured */
  readonly exit: Float64Array
  readonly id: Float64Array
}

function loadInstances(sqlite: BetterSqlite3.Database, captureId: number): Instances {
  const count = Number(sqlite.prepare('SELECT count(*) FROM process WHERE capture_id = ?').pluck().get(captureId))
  const pid = new Int32Array(count)
  const start = new Float64Array(count)
  const exit = new Float64Array(count)
  const id = new Float64Array(count)
  // `+capture_id`: a table scan, not one random row read per (capture_id, pid) index entry
  const rows = sqlite
    .prepare('SELECT id, pid, coalesce(start_ts, exec_ts, exit_ts) / 1000, exit_ts / 1000 FROM process WHERE +capture_id = ?')
    .raw()
    .iterate(captureId) as IterableIterator<[number, number, number | null, number | null]>
  let n = 0
  for (const [i, p, s, x] of rows) {
    if (n === count) break // cannot happen inside the transaction; keeps the arrays in bounds
    id[n] = i
    pid[n] = p
    start[n] = s ?? Number.NEGATIVE_INFINITY
    exit[n] = x ?? Number.POSITIVE_INFINITY
    n++
  }
  const order = Array.from({ length: n }, (_, k) => k)
  order.sort((a, b) => pid[a]! - pid[b]! || start[a]! - start[b]! || id[a]! - id[b]!)
  return {
    pid: Int32Array.from(order, (k) => pid[k]!),
    start: Float64Array.from(order, (k) => start[k]!),
    exit: Float64Array.from(order, (k) => exit[k]!),
    id: Float64Array.from(order, (k) => id[k]!),
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

/** Sets `process_id` on every event table of a capture; returns the number of rows changed. */
export function linkEvents(sqlite: BetterSqlite3.Database, captureId: number): number {
  return sqlite.transaction(() => link(sqlite, captureId))()
}

/**
 * Pages through `table`'s rows of the capture in rowid order (`select` takes
 * the last rowid seen and the capture id, returns [rowid, pid, ts µs,
 * process_id]) and writes the changed process ids.
 */
function relink(
  sqlite: BetterSqlite3.Database,
  inst: Instances,
  captureId: number,
  select: BetterSqlite3.Statement,
  update: RowBatch,
): number {
  let changed = 0
  let after = -Infinity
  for (;;) {
    // better-sqlite3 cannot write while a read is open: read a page, then write it
    const page = select.all(after, captureId, PAGE) as [number, number | null, number | null, number | null][]
    for (const [rowid, pid, ts, current] of page) {
      const want = pid === null ? null : lookup(inst, pid, ts)
      if (want === current) continue
      update.values.push(rowid, want)
      update.added()
      changed++
    }
    update.flush()
    if (page.length < PAGE) return changed
    after = page[page.length - 1]![0]
  }
}

/** Sets `process_id` (v.column2) of the rows whose `key` is v.column1, many rows per statement. */
function updates(sqlite: BetterSqlite3.Database, table: string, key: string): RowBatch {
  return RowBatch.of(
    sqlite,
    (rows) => `UPDATE "${table}" SET process_id = v.column2 FROM (VALUES ${valuesSql(2, rows)}) AS v WHERE "${table}".${key} = v.column1`,
    2,
  )
}

function link(sqlite: BetterSqlite3.Database, captureId: number): number {
  const tables = (
    sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_event' ESCAPE '\\' ORDER BY name").pluck().all() as string[]
  ).filter((t) => !SKIP.has(t))
  let inst: Instances | undefined
  let changed = 0
  for (const table of tables) {
    const cols = tableColumns(sqlite, table)
    if (!cols.has('process_id') || !cols.has('pid')) continue
    // most tools are not in most captures: skip them by their (capture_id, pid) index
    if (sqlite.prepare(`SELECT 1 FROM "${table}" WHERE capture_id = ? LIMIT 1`).get(captureId) === undefined) continue
    inst ??= loadInstances(sqlite, captureId)
    const id = cols.has('tid') ? 'coalesce(pid, tid)' : 'pid'
    changed += relink(
      sqlite,
      inst,
      captureId,
      sqlite
        .prepare(
          `SELECT line_id, ${id}, ts / 1000, process_id FROM "${table}"
           WHERE line_id > ? AND +capture_id = ? ORDER BY line_id LIMIT ?`,
        )
        .raw(),
      updates(sqlite, table, 'line_id'),
    )
  }
  // exitsnoop's per-thread rows (-T / --per-thread): a thread's exit belongs
  // to its process; whole-process rows are linked by process derivation
  if (sqlite.prepare('SELECT 1 FROM exitsnoop_event WHERE capture_id = ? AND tid IS NOT NULL AND tid <> pid LIMIT 1').get(captureId) !== undefined) {
    inst ??= loadInstances(sqlite, captureId)
    changed += relink(
      sqlite,
      inst,
      captureId,
      sqlite
        .prepare(
          `SELECT line_id, pid, ts / 1000, process_id FROM exitsnoop_event
           WHERE line_id > ? AND +capture_id = ? AND tid IS NOT NULL AND tid <> pid ORDER BY line_id LIMIT ?`,
        )
        .raw(),
      updates(sqlite, 'exitsnoop_event', 'line_id'),
    )
  }
  // the PIDs seen on TCP connections (rebuilt with the connections)
  if (sqlite.prepare('SELECT 1 FROM tcp_connection_pid WHERE capture_id = ? LIMIT 1').get(captureId) !== undefined) {
    inst ??= loadInstances(sqlite, captureId)
    changed += relink(
      sqlite,
      inst,
      captureId,
      sqlite
        .prepare(
          `SELECT rowid, pid, ts / 1000, process_id FROM tcp_connection_pid
           WHERE rowid > ? AND +capture_id = ? ORDER BY rowid LIMIT ?`,
        )
        .raw(),
      updates(sqlite, 'tcp_connection_pid', 'rowid'),
    )
  }
  return changed
}
