import { valuesSql } from '../store/batch.js'
import { allocateIds, batchOf, stmt, type DeriveContext } from './context.js'
import { instancesOf, precisionWidth, summarize, type ExecRow, type ExitRow, type PpidSource, type StartSource, type TimePrecision } from './instances.js'
import { breakCycles, pickParent, sortCandidates, type Candidate } from './parents.js'
import { insertPlaceholders, writeInstanceRows, type InstanceRow } from './processes.js'

/**
 * The first derivation of a capture (no process row yet), in one pass: the
 * same rules as the batch driver ({@link instancesOf}, {@link pickParent},
 * {@link breakCycles}), but the exec and exit rows are read by one table
 * scan into typed columns instead of PID by PID through the index, and the
 * rows are written in id order. `test/derive/incremental.test.ts` compares
 * the two drivers.
 */

/** Exec or exit rows of a capture as columns, in line order. */
interface Columns {
  n: number
  line: Float64Array
  rank: Int32Array
  pid: Int32Array
  ppid: Int32Array
  ts: Float64Array
  width: Float64Array
  /** exec: ok (1/0); exit: AGE in s (NaN when not printed) */
  value: Float64Array
}

const PAGE = 20_000

function loadColumns(ctx: DeriveContext, exec: boolean): Columns {
  const { sqlite, captureId } = ctx
  const table = exec ? 'execsnoop_event' : 'exitsnoop_event'
  const where = exec ? 'pid IS NOT NULL' : 'pid IS NOT NULL AND (tid IS NULL OR tid = pid)'
  const count = stmt(sqlite, `SELECT count(*) FROM ${table} WHERE capture_id = ? AND ${where}`).pluck().get(captureId) as number
  const c: Columns = {
    n: 0,
    line: new Float64Array(count),
    rank: new Int32Array(count),
    pid: new Int32Array(count),
    ppid: new Int32Array(count),
    ts: new Float64Array(count),
    width: new Float64Array(count),
    value: new Float64Array(count),
  }
  // a table scan in line order (`+capture_id`: not through the (capture_id, pid) index)
  const page = stmt(
    sqlite,
    `SELECT line_id, source_id, pid, ppid, ts / 1000, ts_precision, ${exec ? 'ret' : 'age_s'} FROM ${table}
     WHERE line_id > ? AND +capture_id = ? AND ${where} ORDER BY line_id LIMIT ?`,
  ).raw()
  let after = -Infinity
  for (;;) {
    const rows = page.all(after, captureId, PAGE) as [number, number, number, number | null, number | null, string | null, number | null][]
    for (const [line, source, pid, ppid, ts, precision, value] of rows) {
      if (c.n === count) break // cannot happen inside the transaction; keeps the arrays in bounds
      const i = c.n++
      c.line[i] = line
      c.rank[i] = ctx.rank.get(source) ?? 0
      c.pid[i] = pid
      c.ppid[i] = ppid ?? 0
      c.ts[i] = ts ?? NaN
      c.width[i] = precisionWidth(precision)
      c.value[i] = exec ? (value === null || value === 0 ? 1 : 0) : (value ?? NaN)
    }
    if (rows.length < PAGE) break
    after = rows[rows.length - 1]![0]
  }
  return c
}

/** Row indices sorted by PID (then line order). */
function byPid(c: Columns): Int32Array {
  return sortedIndices(c.n, (a, b) => c.pid[a]! - c.pid[b]! || a - b)
}

/** The fields exec and exit rows share, of row `i`. */
const evidence = (c: Columns, i: number): Omit<ExecRow, 'ok'> => ({
  line: c.line[i]!,
  rank: c.rank[i]!,
  processId: null,
  pid: c.pid[i]!,
  ppid: c.ppid[i]!,
  ts: c.ts[i]!,
  width: c.width[i]!,
})

const execRow = (c: Columns, i: number): ExecRow => ({ ...evidence(c, i), ok: c.value[i] === 1 })

const exitRow = (c: Columns, i: number): ExitRow => ({ ...evidence(c, i), age: c.value[i]! })

/** The instances of a capture, one per index, in PID order. */
class Table {
  n = 0
  pid: Int32Array
  ppid: Int32Array
  readonly ppidSource: PpidSource[] = []
  start: Float64Array
  readonly startSource: StartSource[] = []
  readonly startPrecision: TimePrecision[] = []
  readonly exitPrecision: TimePrecision[] = []
  exitTs: Float64Array
  /** execs, failed execs, and the line ids of last ok, first ok, first exec, exit (NaN: none) */
  execCount: Int32Array
  failed: Int32Array
  lines: Float64Array
  id: Float64Array
  constructor(capacity: number) {
    this.pid = new Int32Array(capacity)
    this.ppid = new Int32Array(capacity)
    this.start = new Float64Array(capacity)
    this.exitTs = new Float64Array(capacity)
    this.execCount = new Int32Array(capacity)
    this.failed = new Int32Array(capacity)
    this.lines = new Float64Array(capacity * 4)
    this.id = new Float64Array(capacity)
  }

  /** A slot for one more instance: the columns grow by half when full (sized for the exits first: most instances have one). */
  add(): number {
    if (this.n === this.pid.length) {
      const size = Math.ceil(this.pid.length * 1.5) + 1024
      const grow = <T extends Int32Array | Float64Array>(a: T, width = 1): T => {
        const b = new (a.constructor as new (n: number) => T)(size * width)
        b.set(a)
        return b
      }
      this.pid = grow(this.pid)
      this.ppid = grow(this.ppid)
      this.start = grow(this.start)
      this.exitTs = grow(this.exitTs)
      this.execCount = grow(this.execCount)
      this.failed = grow(this.failed)
      this.lines = grow(this.lines, 4)
      this.id = grow(this.id)
    }
    return this.n++
  }
}

/** 0..n-1 sorted by `compare`, as a typed array (no array of boxed numbers on the way). */
function sortedIndices(n: number, compare: (a: number, b: number) => number): Int32Array {
  const order = new Int32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  return order.sort(compare)
}

/** Evidence links: (line id, instance index) of every exec and exit row. */
interface Evidence {
  readonly line: Float64Array
  readonly instance: Int32Array
  readonly isExit: Uint8Array
  n: number
}

/** Step 1: the instances of every PID, from one scan of the exec and exit rows (the rows are let go on return). */
function buildInstances(ctx: DeriveContext): { t: Table; evidence: Evidence } {
  const E = loadColumns(ctx, true)
  const X = loadColumns(ctx, false)
  const eOrder = byPid(E)
  const xOrder = byPid(X)
  // most instances have an exit; exec-only ones (alive at the end, or exit not captured) are few
  const t = new Table(X.n + Math.ceil(E.n / 8) + 1024)
  const ev: Evidence = { line: new Float64Array(E.n + X.n), instance: new Int32Array(E.n + X.n), isExit: new Uint8Array(E.n + X.n), n: 0 }
  let e = 0
  let x = 0
  while (e < E.n || x < X.n) {
    const pe = e < E.n ? E.pid[eOrder[e]!]! : Infinity
    const px = x < X.n ? X.pid[xOrder[x]!]! : Infinity
    const pid = Math.min(pe, px)
    const execs: ExecRow[] = []
    const exits: ExitRow[] = []
    for (; e < E.n && E.pid[eOrder[e]!] === pid; e++) execs.push(execRow(E, eOrder[e]!))
    for (; x < X.n && X.pid[xOrder[x]!] === pid; x++) exits.push(exitRow(X, xOrder[x]!))
    for (const inst of instancesOf(pid, execs, exits)) {
      const i = t.add()
      const s = summarize(inst)
      t.pid[i] = pid
      t.ppid[i] = inst.ppid
      t.ppidSource[i] = inst.ppidSource
      t.start[i] = inst.start
      t.startSource[i] = inst.startSource
      t.startPrecision[i] = inst.startPrecision
      t.exitPrecision[i] = inst.exitPrecision
      t.exitTs[i] = inst.exitTs
      t.execCount[i] = s.execCount
      t.failed[i] = s.failedExecCount
      t.lines[i * 4] = s.lastOk?.line ?? NaN
      t.lines[i * 4 + 1] = s.firstOk?.line ?? NaN
      t.lines[i * 4 + 2] = s.first?.line ?? NaN
      t.lines[i * 4 + 3] = inst.exit?.line ?? NaN
      for (const r of inst.execs) {
        ev.line[ev.n] = r.line
        ev.instance[ev.n++] = i
      }
      if (inst.exit) {
        ev.line[ev.n] = inst.exit.line
        ev.isExit[ev.n] = 1
        ev.instance[ev.n++] = i
      }
    }
  }
  return { t, evidence: ev }
}

/** Derives every process instance of a capture that has none yet; returns the rows written. */
export function deriveProcessesBulk(ctx: DeriveContext): number {
  const { t, evidence } = buildInstances(ctx)

  // 2. ids in start order (unknown starts last), as the batch driver hands them out
  const startKey = (i: number): number => (Number.isNaN(t.start[i]!) ? Infinity : t.start[i]!)
  const byStart = sortedIndices(t.n, (a, b) => startKey(a) - startKey(b) || t.pid[a]! - t.pid[b]! || a - b)
  const firstId = allocateIds(ctx.sqlite, 'process', t.n)
  // instance index by id - firstId (typed arrays: a Map of a million entries costs ~100 MB)
  const indexById = new Int32Array(t.n)
  byStart.forEach((i, k) => {
    t.id[i] = firstId + k
    indexById[k] = i
  })

  // 3. parents: children grouped by PPID, each group against its PPID's instances
  // instances are in PID order: a PID's instances are found by binary search
  const firstOf = (pid: number): number => {
    let lo = 0
    let hi = t.n
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (t.pid[mid]! < pid) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  const parent = new Float64Array(t.n).fill(NaN) // parent id; NaN none
  const children = sortedIndices(t.n, (a, b) => t.ppid[a]! - t.ppid[b]! || a - b).filter(
    (i) => t.ppidSource[i] !== null && t.ppid[i] !== t.pid[i],
  )
  const placeholders = new Map<number, number>() // ppid -> id
  const orphans: number[] = []
  for (let k = 0; k < children.length; ) {
    const ppid = t.ppid[children[k]!]!
    const candidates: Candidate[] = []
    for (let i = firstOf(ppid); i < t.n && t.pid[i] === ppid; i++) candidates.push({ id: t.id[i]!, start: t.start[i]!, exit: t.exitTs[i]! })
    sortCandidates(candidates)
    for (; k < children.length && t.ppid[children[k]!] === ppid; k++) {
      const child = children[k]!
      const p = pickParent(t.start[child]!, candidates)
      if (p) parent[child] = p.id
      else orphans.push(child)
    }
  }
  const orphanPpids = [...new Set(orphans.map((i) => t.ppid[i]!))]
  let nextPlaceholder = allocateIds(ctx.sqlite, 'process', orphanPpids.length)
  for (const ppid of orphanPpids) placeholders.set(ppid, nextPlaceholder++)
  for (const child of orphans) parent[child] = placeholders.get(t.ppid[child]!)!

  // 4. cycles (inconsistent input only)
  const indexOf = (id: number): number | undefined => (id >= firstId && id < firstId + t.n ? indexById[id - firstId] : undefined)
  breakCycles(
    Array.from(children, (i) => t.id[i]!),
    (id) => {
      const i = indexOf(id)
      return i === undefined || Number.isNaN(parent[i]!) ? null : parent[i]!
    },
    (id) => {
      const i = indexOf(id)!
      return { id, pid: t.pid[i]!, start: t.start[i]! }
    },
    (id) => {
      parent[indexOf(id)!] = NaN
    },
  )

  // 5. rows in id order, then placeholders, then the evidence links in line order
  const nan = (v: number): number | null => (Number.isNaN(v) ? null : v)
  const rows = function* (): Generator<InstanceRow> {
    for (const i of byStart) {
      yield {
        id: t.id[i]!,
        pid: t.pid[i]!,
        ppid: t.ppidSource[i] === null ? null : t.ppid[i]!,
        ppidSource: t.ppidSource[i]!,
        parentId: nan(parent[i]!),
        execCount: t.execCount[i]!,
        failedExecCount: t.failed[i]!,
        start: nan(t.start[i]!),
        startSource: t.startSource[i]!,
        startPrecision: t.startPrecision[i]!,
        exitTs: nan(t.exitTs[i]!),
        exitPrecision: t.exitPrecision[i]!,
        seenExit: !Number.isNaN(t.lines[i * 4 + 3]!),
        forkOnly: !Number.isNaN(t.lines[i * 4 + 3]!) && t.execCount[i]! + t.failed[i]! === 0,
        lastOk: nan(t.lines[i * 4]!),
        firstOk: nan(t.lines[i * 4 + 1]!),
        first: nan(t.lines[i * 4 + 2]!),
        exit: nan(t.lines[i * 4 + 3]!),
      }
    }
  }
  let written = writeInstanceRows(ctx, rows())
  written += insertPlaceholders(ctx, placeholders)
  linkEvidenceLines(ctx, evidence, t.id)
  return written
}

/** Sets `process_id` of every exec and exit row, in line order (each page of the tables written once). */
function linkEvidenceLines(ctx: DeriveContext, ev: Evidence, id: Float64Array): void {
  const order = sortedIndices(ev.n, (a, b) => ev.line[a]! - ev.line[b]!)
  for (const [exit, table] of [[0, 'execsnoop_event'], [1, 'exitsnoop_event']] as const) {
    const update = batchOf(
      ctx.sqlite,
      (rows) => `UPDATE ${table} SET process_id = v.column2 FROM (VALUES ${valuesSql(2, rows)}) AS v WHERE ${table}.line_id = v.column1`,
      2,
    )
    for (const k of order) {
      if (ev.isExit[k] !== exit) continue
      update.values.push(ev.line[k], id[ev.instance[k]!])
      update.added()
    }
    update.flush()
  }
}
