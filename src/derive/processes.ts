import type BetterSqlite3 from 'better-sqlite3'
import { RowBatch, valuesSql } from '../store/batch.js'
import { tableExists } from '../store/tables.js'

/**
 * Derives process instances from execsnoop and exitsnoop records.
 *
 * A PID is not an identity: an instance is one PID over one time span. Each
 * exitsnoop row (of a whole process) is an instance whose start is its exit
 * time minus AGE; each execsnoop row joins the instance of its PID alive at
 * that time, or starts an exec-only instance (the process outlived the
 * capture, or its exit was not captured). A process seen only in exitsnoop
 * forked without exec and is a full node. Parents resolve to the instance of
 * the PPID alive when the child started; a PPID never seen gets one inferred
 * placeholder. The result is rebuilt from scratch per capture, so it does not
 * depend on the order files were ingested in.
 *
 * ### Memory and speed
 * A capture of a million processes has ~1.75 M exec/exit rows. They are held
 * as columns of typed arrays (~60 bytes per row, numbers only), not as row
 * objects (~600 bytes each with their strings): the text columns of a process
 * (comm, args, times as printed, exit status) are copied by SQLite itself, by
 * joins on the exec/exit rows' line ids, when the process row is written.
 * Groups "the instances of PID p" are ranges of an array sorted by PID,
 * found by binary search, instead of a Map of arrays. Rows are read by a
 * table scan in line order (not through the (capture_id, pid) index, which
 * costs a random page read per row). Process rows that did not change are
 * not rewritten (an upsert that compares), so a watcher's re-derivation of a
 * large capture writes only what is new.
 */

/** Slack, in µs, for second-precision print-time clocks on both sides. */
const TOLERANCE = 2_000_000

// Times are handled in µs as plain numbers (exact below 2^53, ~285 years),
// and written back as integer ns. A missing time or id is NaN; a missing
// row index is -1.

const START_NONE = 0
const START_EXIT_AGE = 1
const START_EXEC = 2
const START_SOURCE = [null, 'exit_age', 'exec'] as const

const PPID_NONE = 0
const PPID_EXEC = 1
const PPID_EXIT = 2
const PPID_SOURCE = [null, 'exec', 'exit'] as const

/** Columns of exec or exit rows, in scan order (columns no longer needed are replaced by empty arrays). */
interface Rows {
  n: number
  line: Float64Array
  rank: Int32Array
  processId: Float64Array
  pid: Int32Array
  /** 0 for NULL (both mean "unknown parent") */
  ppid: Int32Array
  ts: Float64Array
  /** exec: 1 when ret is NULL or 0; exit: unused */
  ok: Uint8Array
  /** exit: age_s (NaN for NULL); exec: unused */
  age: Float64Array
}

const NONE_I32 = new Int32Array(0)
const NONE_F64 = new Float64Array(0)

/** Rows read per query while loading (one `.all()` per page is cheaper than a row-by-row iterator). */
const PAGE = 10_000

/**
 * Loads the exec or exit rows of a capture: `extra` is `ret` (exec) or
 * `age_s` (exit), `where` more conditions. Read by pages of line ids, so in
 * line order by a table scan (`+capture_id`: not through the (capture_id,
 * pid) index, which costs a random page read per row).
 */
function readRows(
  sqlite: BetterSqlite3.Database,
  table: string | null,
  extra: string,
  where: string,
  captureId: number,
  rank: Map<number, number>,
  exec: boolean,
): Rows {
  const count = table
    ? Number(sqlite.prepare(`SELECT count(*) FROM ${table} WHERE capture_id = ? AND ${where}`).pluck().get(captureId))
    : 0
  const rows: Rows = {
    n: 0,
    line: new Float64Array(count),
    rank: new Int32Array(count),
    processId: new Float64Array(count),
    pid: new Int32Array(count),
    ppid: new Int32Array(count),
    ts: new Float64Array(count),
    ok: new Uint8Array(exec ? count : 0),
    age: new Float64Array(exec ? 0 : count),
  }
  if (!table) return rows
  const page = sqlite
    .prepare(
      `SELECT line_id, source_id, process_id, pid, ppid, ts / 1000, ${extra} FROM ${table}
       WHERE line_id > ? AND +capture_id = ? AND ${where} ORDER BY line_id LIMIT ?`,
    )
    .raw()
  let i = 0
  let after = -Infinity
  for (;;) {
    const got = page.all(after, captureId, PAGE) as [number, number, number | null, number, number | null, number | null, number | null][]
    for (const [line, source, processId, pid, ppid, ts, value] of got) {
      if (i === count) break // cannot happen inside the transaction; keeps the arrays in bounds
      rows.line[i] = line
      rows.rank[i] = rank.get(source) ?? 0
      rows.processId[i] = processId ?? NaN
      rows.pid[i] = pid
      rows.ppid[i] = ppid ?? 0
      rows.ts[i] = ts ?? NaN
      if (exec) rows.ok[i] = value === null || value === 0 ? 1 : 0
      else rows.age[i] = value ?? NaN
      i++
    }
    if (got.length < PAGE) break
    after = got[got.length - 1]![0]
  }
  rows.n = i
  return rows
}

/**
 * Row indices in time order; ties and rows without times in file order
 * (source path, then line: line ids grow with line numbers within a source).
 */
function timeOrder(r: Rows): Int32Array {
  const order = Array.from({ length: r.n }, (_, i) => i)
  const { ts, rank, line } = r
  order.sort((a, b) => {
    const ta = ts[a]!
    const tb = ts[b]!
    if (ta !== tb) {
      if (Number.isNaN(ta)) return Number.isNaN(tb) ? rank[a]! - rank[b]! || line[a]! - line[b]! : 1
      if (Number.isNaN(tb)) return -1
      return ta - tb
    }
    return rank[a]! - rank[b]! || line[a]! - line[b]!
  })
  return Int32Array.from(order)
}

/** `items` (indices) sorted by `pid[item]`, then by index: the groups of one PID, in creation order. */
function groupByPid(pid: Int32Array, n: number): Int32Array {
  const order = Array.from({ length: n }, (_, i) => i)
  order.sort((a, b) => pid[a]! - pid[b]! || a - b)
  return Int32Array.from(order)
}

/** First position in `sorted` (grouped by `pid`) whose PID is >= `p`. */
function lowerBound(sorted: Int32Array, pid: Int32Array, p: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (pid[sorted[mid]!]! < p) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Rebuilds the `process` rows of one capture; returns how many instances. */
export function deriveProcesses(sqlite: BetterSqlite3.Database, captureId: number): number {
  // one transaction: the rows read and the rows written are one snapshot
  return sqlite.transaction(() => derive(sqlite, captureId))()
}

function derive(sqlite: BetterSqlite3.Database, captureId: number): number {
  const rank = new Map<number, number>()
  ;(sqlite.prepare('SELECT id FROM source WHERE capture_id = ? ORDER BY path, id').pluck().all(captureId) as number[]).forEach(
    (id, i) => rank.set(id, i),
  )
  const hasExec = tableExists(sqlite, 'execsnoop_event')
  const hasExit = tableExists(sqlite, 'exitsnoop_event')
  const E = readRows(sqlite, hasExec ? 'execsnoop_event' : null, 'ret', 'pid IS NOT NULL', captureId, rank, true)
  const X = readRows(
    sqlite,
    hasExit ? 'exitsnoop_event' : null,
    'age_s',
    'pid IS NOT NULL AND (tid IS NULL OR tid = pid)',
    captureId,
    rank,
    false,
  )
  const execOrder = timeOrder(E)
  const exitOrder = timeOrder(X)
  // what is not needed any more is let go as soon as possible: the peak
  // memory of a large capture is here
  E.rank = X.rank = NONE_I32

  // Instances, by index = creation order (exits first, then exec-only ones);
  // inferred parents are appended after step 4.
  const cap = X.n + E.n
  const pid = new Int32Array(cap)
  const ppid = new Int32Array(cap)
  const ppidSource = new Uint8Array(cap)
  // (no .fill(): every used slot is set when its instance is created, and
  // the pages of unused capacity are never touched, so never resident)
  const start = new Float64Array(cap)
  const startSource = new Uint8Array(cap)
  const exitRow = new Int32Array(cap) // index into X, or -1
  const exitTs = new Float64Array(cap)
  const firstExec = new Int32Array(cap) // index into E, or -1
  const lastExec = new Int32Array(cap)
  const nextExec = new Int32Array(E.n).fill(-1) // the instance's next exec, in time order
  const execInstance = new Int32Array(E.n) // the instance of each exec
  const exitInstance = new Int32Array(X.n) // the instance of each exit
  let n = 0

  // 1. One instance per process exit.
  for (let k = 0; k < X.n; k++) {
    const x = exitOrder[k]!
    const i = n++
    pid[i] = X.pid[x]!
    exitRow[i] = x
    exitTs[i] = X.ts[x]!
    firstExec[i] = -1
    lastExec[i] = -1
    // the exit's PPID, unless an exec shows one (step 3)
    ppid[i] = X.ppid[x]!
    ppidSource[i] = ppid[i] === 0 ? PPID_NONE : PPID_EXIT
    if (!Number.isNaN(X.ts[x]!) && !Number.isNaN(X.age[x]!)) {
      start[i] = X.ts[x]! - Math.round(X.age[x]! * 1e6)
      startSource[i] = START_EXIT_AGE
    } else {
      start[i] = NaN
      startSource[i] = START_NONE
    }
  }
  X.pid = X.ppid = NONE_I32
  X.ts = X.age = NONE_F64
  // exit instances of each PID, in creation order (exec-only instances never
  // match an exec by time, so step 2 looks only at these)
  const exitsByPid = groupByPid(pid, n)

  // 2. Each exec joins the instance of its PID alive at that time.
  const openByPid = new Map<number, number>()
  for (let k = 0; k < E.n; k++) {
    const e = execOrder[k]!
    const p = E.pid[e]!
    const ts = E.ts[e]!
    const from = lowerBound(exitsByPid, pid, p)
    let to = from
    while (to < exitsByPid.length && pid[exitsByPid[to]!] === p) to++
    let target = -1
    if (!Number.isNaN(ts)) {
      let best = -1
      let bestScore = 0
      for (let c = from; c < to; c++) {
        const i = exitsByPid[c]!
        const xts = exitTs[i]!
        if (Number.isNaN(xts)) continue
        const s = Number.isNaN(start[i]!) ? xts : start[i]!
        if (ts < s - TOLERANCE || ts > xts + TOLERANCE) continue
        // prefer the instance whose span (start..exit) holds the exec most snugly
        const score = (ts < s ? s - ts : 0) + (ts > xts ? ts - xts : 0)
        if (best === -1 || score < bestScore || (score === bestScore && xts < exitTs[best]!)) {
          best = i
          bestScore = score
        }
      }
      target = best
      if (target === -1) {
        // no exit covers it: continue the open exec-only instance, unless an
        // exit of this PID came in between (then it is a reused PID)
        const open = openByPid.get(p)
        if (open !== undefined) {
          const lastTs = E.ts[lastExec[open]!]!
          let exitBetween = false
          if (!Number.isNaN(lastTs)) {
            for (let c = from; c < to && !exitBetween; c++) {
              const xts = exitTs[exitsByPid[c]!]!
              exitBetween = !Number.isNaN(xts) && xts > lastTs && xts < ts - TOLERANCE
            }
          }
          if (!exitBetween) target = open
        }
      }
    } else {
      // no time: the first exit of this PID without execs, else the open instance
      for (let c = from; c < to && target === -1; c++) {
        const i = exitsByPid[c]!
        if (firstExec[i] === -1) target = i
      }
      if (target === -1) target = openByPid.get(p) ?? -1
    }
    if (target === -1) {
      target = n++
      pid[target] = p
      start[target] = ts
      startSource[target] = Number.isNaN(ts) ? START_NONE : START_EXEC
      exitRow[target] = -1
      exitTs[target] = NaN
      firstExec[target] = -1
      lastExec[target] = -1
      openByPid.set(p, target)
    }
    if (firstExec[target] === -1) firstExec[target] = e
    else nextExec[lastExec[target]!] = e
    lastExec[target] = e
    execInstance[e] = target
  }

  // 3. PPID: the earliest seen (exec before exit; exit may show a reparenting):
  // an exit's was set in step 1.
  for (let i = 0; i < n; i++) {
    let e = firstExec[i]!
    while (e !== -1 && E.ppid[e] === 0) e = nextExec[e]!
    if (e !== -1) {
      ppid[i] = E.ppid[e]!
      ppidSource[i] = PPID_EXEC
    }
  }

  // Instances grouped by PID (in creation order within a PID), and the order
  // in which the steps below visit them: PIDs in order of their first
  // instance, then that PID's instances.
  const byPid = groupByPid(pid, n)
  const visit = new Int32Array(n)
  {
    let v = 0
    for (let i = 0; i < n; i++) {
      const g = lowerBound(byPid, pid, pid[i]!)
      if (byPid[g] !== i) continue // not the first of its PID
      for (let c = g; c < n && pid[byPid[c]!] === pid[i]; c++) visit[v++] = byPid[c]!
    }
  }

  // 4. Parent instance: the PPID's instance alive when the child started.
  const parent = new Int32Array(n).fill(-1)
  const inferredByPid = new Map<number, number>() // ppid -> index (>= n)
  const inferredPids: number[] = []
  for (let v = 0; v < n; v++) {
    const child = visit[v]!
    const pp = ppid[child]!
    if (ppidSource[child] === PPID_NONE || pp === pid[child]) continue
    const childStart = start[child]!
    let best = -1
    for (let c = lowerBound(byPid, pid, pp); c < n && pid[byPid[c]!] === pp; c++) {
      const p = byPid[c]!
      if (!Number.isNaN(childStart)) {
        const pStart = start[p]!
        const pEnd = exitTs[p]!
        if (!Number.isNaN(pStart) && pStart - TOLERANCE > childStart) continue
        if (!Number.isNaN(pEnd) && pEnd + TOLERANCE < childStart) continue
        const score = Number.isNaN(pStart) ? -1 : pStart
        if (best === -1 || score > (Number.isNaN(start[best]!) ? -1 : start[best]!)) best = p
      } else if (best === -1) {
        best = p
      }
    }
    if (best === -1) {
      best = inferredByPid.get(pp) ?? -1
      if (best === -1) {
        best = n + inferredPids.length
        inferredByPid.set(pp, best)
        inferredPids.push(pp)
      }
    }
    parent[child] = best
  }
  const total = n + inferredPids.length
  const pidOf = (i: number): number => (i < n ? pid[i]! : inferredPids[i - n]!)

  // 5. Break any cycle (impossible in a consistent capture, but the input is
  // not always consistent): the tree queries rely on a forest. Inferred
  // instances have no parent; the others in the order of step 4.
  const seen = new Int32Array(n).fill(-1)
  for (let v = 0; v < n; v++) {
    const inst = visit[v]!
    seen[inst] = v
    let p = parent[inst]!
    while (p !== -1 && p < n) {
      if (seen[p] === v) {
        parent[inst] = -1
        break
      }
      seen[p] = v
      p = parent[p]!
    }
  }

  // 6. Deterministic ids: by start time, then PID, then first evidence
  // (creation order; inferred instances last).
  const key = (i: number): number => (i >= n ? NaN : Number.isNaN(start[i]!) ? exitTs[i]! : start[i]!)
  const idOrder = Array.from({ length: total }, (_, i) => i)
  idOrder.sort((a, b) => {
    const as = key(a)
    const bs = key(b)
    if (as !== bs && !(Number.isNaN(as) && Number.isNaN(bs))) {
      if (Number.isNaN(as)) return 1
      if (Number.isNaN(bs)) return -1
      return as - bs
    }
    return pidOf(a) - pidOf(b) || a - b
  })

  const base = Number(sqlite.prepare('SELECT coalesce(max(id), 0) FROM process WHERE capture_id != ?').pluck().get(captureId))
  const id = new Float64Array(total)
  idOrder.forEach((inst, pos) => (id[inst] = base + pos + 1))
  // rows of this capture outside the new id range are gone
  sqlite.prepare('DELETE FROM process WHERE capture_id = ? AND (id <= ? OR id > ?)').run(captureId, base, base + total)

  // The text columns come from the exec/exit rows themselves (by line id):
  // lo = last successful exec, fo = first successful exec, fe = first exec,
  // x = the exit. An unchanged row is left as it is.
  const cols = [
    'capture_id', 'pid', 'ppid', 'ppid_source', 'parent_id', 'comm', 'filename', 'args', 'exec_count',
    'failed_exec_count', 'start_ts', 'start_source', 'exec_ts', 'exec_time_text', 'exit_ts', 'exit_time_text',
    'lifetime_s', 'exit_code', 'signal', 'core_dumped', 'seen_exec', 'seen_exit', 'inferred', 'fork_only',
  ]
  // The values of each row (v.column1..18, in this order): id, capture_id,
  // pid, ppid, ppid_source, parent_id, exec_count, failed_exec_count, start
  // (µs), start_source, seen_exec, seen_exit, inferred, fork_only, then the
  // line ids of lo, fo, fe and x.
  const execJoin = (alias: string, column: number): string =>
    hasExec
      ? `LEFT JOIN execsnoop_event ${alias} ON ${alias}.line_id = v.column${String(column)}`
      : `LEFT JOIN (SELECT NULL AS line_id, NULL AS comm, NULL AS filename, NULL AS args, NULL AS ts, NULL AS time_text) ${alias} ON ${alias}.line_id = v.column${String(column)}`
  const exitJoin = hasExit
    ? 'LEFT JOIN exitsnoop_event x ON x.line_id = v.column18'
    : 'LEFT JOIN (SELECT NULL AS line_id, NULL AS comm, NULL AS ts, NULL AS time_text, NULL AS age_s, NULL AS exit_code, NULL AS signal, NULL AS core_dumped) x ON x.line_id = v.column18'
  const upserts = RowBatch.of(
    sqlite,
    (rows) => `INSERT INTO process (id, ${cols.join(', ')})
     SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, coalesce(lo.comm, x.comm, fe.comm), lo.filename, lo.args,
       v.column7, v.column8, CAST(v.column9 AS INTEGER) * 1000, v.column10, (fo.ts / 1000) * 1000, fo.time_text,
       (x.ts / 1000) * 1000, x.time_text, x.age_s, x.exit_code, x.signal, x.core_dumped, v.column11, v.column12, v.column13, v.column14
     FROM (VALUES ${valuesSql(18, rows)}) AS v ${execJoin('lo', 15)} ${execJoin('fo', 16)} ${execJoin('fe', 17)} ${exitJoin}
     WHERE true
     ON CONFLICT (id) DO UPDATE SET ${cols.map((c) => `${c} = excluded.${c}`).join(', ')}
     WHERE ${cols.map((c) => `${c} IS NOT excluded.${c}`).join(' OR ')}`,
    18,
  )
  const row = upserts.values
  for (const inst of idOrder) {
    const instId = id[inst]!
    if (inst >= n) {
      // inferred: never seen itself, only as someone's PPID
      row.push(instId, captureId, pidOf(inst), null, null, null, 0, 0, null, null, 0, 0, 1, 0, null, null, null, null)
      upserts.added()
      continue
    }
    let okCount = 0
    let execCount = 0
    let firstOk = -1
    let lastOk = -1
    for (let e = firstExec[inst]!; e !== -1; e = nextExec[e]!) {
      execCount++
      if (E.ok[e] === 1) {
        okCount++
        if (firstOk === -1) firstOk = e
        lastOk = e
      }
    }
    const x = exitRow[inst]!
    const p = parent[inst]!
    row.push(
      instId,
      captureId,
      pid[inst],
      ppidSource[inst] === PPID_NONE ? null : ppid[inst],
      PPID_SOURCE[ppidSource[inst]!],
      p === -1 ? null : id[p],
      okCount,
      execCount - okCount,
      Number.isNaN(start[inst]!) ? null : start[inst],
      START_SOURCE[startSource[inst]!],
      okCount > 0 ? 1 : 0,
      x !== -1 ? 1 : 0,
      0,
      x !== -1 && execCount === 0 ? 1 : 0,
      lastOk === -1 ? null : E.line[lastOk],
      firstOk === -1 ? null : E.line[firstOk],
      execCount === 0 ? null : E.line[firstExec[inst]!],
      x === -1 ? null : X.line[x],
    )
    upserts.added()
  }
  upserts.flush()
  // Every exec and (process) exit row belongs to exactly one instance; only
  // rows whose instance changed are written, in line order (the order they
  // were read in): each page of the event table is then written once, where
  // the instances' order would rewrite pages at random.
  const relink = (table: string): RowBatch =>
    RowBatch.of(
      sqlite,
      (rows) => `UPDATE ${table} SET process_id = v.column2 FROM (VALUES ${valuesSql(2, rows)}) AS v WHERE ${table}.line_id = v.column1`,
      2,
    )
  if (E.n > 0) {
    const linkExec = relink('execsnoop_event')
    for (let e = 0; e < E.n; e++) {
      const instId = id[execInstance[e]!]!
      if (E.processId[e] === instId) continue
      linkExec.values.push(E.line[e], instId)
      linkExec.added()
    }
    linkExec.flush()
  }
  for (let i = 0; i < n; i++) {
    const x = exitRow[i]!
    if (x !== -1) exitInstance[x] = i
  }
  if (X.n > 0) {
    const linkExit = relink('exitsnoop_event')
    for (let x = 0; x < X.n; x++) {
      const instId = id[exitInstance[x]!]!
      if (X.processId[x] === instId) continue
      linkExit.values.push(X.line[x], instId)
      linkExit.added()
    }
    linkExit.flush()
  }
  return total
}
