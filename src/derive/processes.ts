import { valuesSql, type RowBatch } from '../store/batch.js'
import { allocateIds, batchOf, chunks, IN_LIST, jsonList, stmt, us, type DeriveContext } from './context.js'
import {
  instancesOf,
  precisionWidth,
  summarize,
  type ExecRow,
  type ExitRow,
  type Instance,
  type PpidSource,
  type StartSource,
  type TimePrecision,
} from './instances.js'
import { breakCycles, pickParent, sortCandidates, type Candidate, type Node } from './parents.js'
import { UNREFINED_EXIT, UNREFINED_START } from './refine.js'

/**
 * Process instances of the PIDs a batch touched, written into `process`.
 *
 * For each PID: its instances are computed again from all its exec and
 * exit rows ({@link instancesOf}); each keeps the id its evidence rows were
 * linked to before (so ids never move), new ones get fresh ids. Then the
 * parents of those instances, and of every instance whose PPID is a PID
 * whose instances changed, are resolved again ({@link pickParent});
 * placeholders are created for PPIDs without a fitting instance and removed
 * once childless. Work is proportional to the rows of the PIDs touched and
 * to the children of the PIDs whose instances changed.
 */

export interface ProcessChanges {
  /** PIDs whose instances were added, removed or moved in time (including placeholders): their events are linked again */
  readonly changedPids: ReadonlySet<number>
  /** process rows written or deleted */
  readonly written: number
  /** instances whose own times, parent or children changed: the fork-only ones among them are refined again */
  readonly touched: ReadonlySet<number>
}

/** An instance computed in this pass, with its id. */
interface Placed {
  readonly id: number
  readonly instance: Instance
}

/** A process row as the parent step needs it. */
interface Child {
  readonly id: number
  readonly pid: number
  readonly ppid: number
  readonly start: number
  parentId: number | null
}

/** Rows grouped by their PID. */
function groupByPid<T extends { readonly pid: number }>(rows: Iterable<T>): Map<number, T[]> {
  const by = new Map<number, T[]>()
  for (const row of rows) {
    const list = by.get(row.pid)
    if (list) list.push(row)
    else by.set(row.pid, [row])
  }
  return by
}

/** An exec or exit row as read by {@link loadExecs} and {@link loadExits}: the fields they share. */
type EvidenceSql = [number, number, number | null, number, number | null, number | null, string | null, number | null]

function evidenceOf(ctx: DeriveContext, [line, source, processId, pid, ppid, ts, precision]: EvidenceSql): Omit<ExecRow, 'ok'> {
  return { line, rank: ctx.rank.get(source) ?? 0, processId, pid, ppid: ppid ?? 0, ts: us(ts), width: precisionWidth(precision) }
}

function loadExecs(ctx: DeriveContext, pids: readonly number[]): Map<number, ExecRow[]> {
  const rows = stmt(
    ctx.sqlite,
    `SELECT line_id, source_id, process_id, pid, ppid, ts / 1000, ts_precision, ret FROM execsnoop_event
     WHERE capture_id = ? AND pid ${IN_LIST}`,
  )
    .raw()
    .all(ctx.captureId, jsonList(pids)) as EvidenceSql[]
  return groupByPid(rows.map((r): ExecRow => ({ ...evidenceOf(ctx, r), ok: r[7] === null || r[7] === 0 })))
}

function loadExits(ctx: DeriveContext, pids: readonly number[]): Map<number, ExitRow[]> {
  const rows = stmt(
    ctx.sqlite,
    `SELECT line_id, source_id, process_id, pid, ppid, ts / 1000, ts_precision, age_s FROM exitsnoop_event
     WHERE capture_id = ? AND pid ${IN_LIST} AND (tid IS NULL OR tid = pid)`,
  )
    .raw()
    .all(ctx.captureId, jsonList(pids)) as EvidenceSql[]
  return groupByPid(rows.map((r): ExitRow => ({ ...evidenceOf(ctx, r), age: r[7] ?? NaN })))
}

/** The stored real (not inferred) instances of `pids`, by PID. */
function loadStored(ctx: DeriveContext, pids: readonly number[]): Map<number, (Candidate & { parentId: number | null })[]> {
  const rows = stmt(
    ctx.sqlite,
    `SELECT p.id, p.pid, ${UNREFINED_START}, ${UNREFINED_EXIT}, p.parent_id FROM process p
     WHERE p.capture_id = ? AND p.pid ${IN_LIST} AND p.inferred = 0`,
  )
    .raw()
    .all(ctx.captureId, jsonList(pids)) as [number, number, number | null, number | null, number | null][]
  return groupByPid(rows.map(([id, pid, start, exit, parentId]) => ({ id, pid, start: us(start), exit: us(exit), parentId })))
}

/** The instance's span as a parent candidate. */
const candidateOf = (p: Placed): Candidate => ({ id: p.id, start: p.instance.start, exit: p.instance.exitTs })

const sameTime = (a: number, b: number): boolean => a === b || (Number.isNaN(a) && Number.isNaN(b))

/**
 * Gives each new instance an id: the smallest id its evidence rows were
 * linked to before that no other instance of the PID took yet, else a new
 * one. Returns the instances with ids, and the ids no longer used.
 */
function placeIds(
  ctx: DeriveContext,
  computed: ReadonlyMap<number, Instance[]>,
  stored: ReadonlyMap<number, Candidate[]>,
): { placed: Map<number, Placed[]>; gone: number[] } {
  const placed = new Map<number, Placed[]>()
  const gone: number[] = []
  const pending: { pid: number; index: number }[] = []
  for (const [pid, instances] of computed) {
    const known = new Set((stored.get(pid) ?? []).map((c) => c.id))
    const taken = new Set<number>()
    const list: Placed[] = []
    for (const instance of instances) {
      let id = Infinity
      const evidence = [instance.exit?.processId, ...instance.execs.map((e) => e.processId)]
      for (const p of evidence) if (p != null && known.has(p) && !taken.has(p) && p < id) id = p
      if (id === Infinity) {
        pending.push({ pid, index: list.length })
        id = NaN
      } else {
        taken.add(id)
      }
      list.push({ id, instance })
    }
    for (const k of known) if (!taken.has(k)) gone.push(k)
    placed.set(pid, list)
  }
  // new ids in start order (unknown starts last)
  const startOf = ({ pid, index }: { pid: number; index: number }): number => {
    const t = placed.get(pid)![index]!.instance.start
    return Number.isNaN(t) ? Infinity : t
  }
  pending.sort((a, b) => startOf(a) - startOf(b) || a.pid - b.pid || a.index - b.index)
  let next = allocateIds(ctx.sqlite, 'process', pending.length)
  for (const { pid, index } of pending) {
    const list = placed.get(pid)!
    list[index] = { id: next++, instance: list[index]!.instance }
  }
  return { placed, gone }
}

/** True when the PID's instances are not the stored ones (added, removed, or moved in time). */
function instancesChanged(placed: readonly Placed[], stored: readonly Candidate[]): boolean {
  if (placed.length !== stored.length) return true
  const byId = new Map(stored.map((c) => [c.id, c]))
  return placed.some((p) => {
    const s = byId.get(p.id)
    return !s || !sameTime(s.start, p.instance.start) || !sameTime(s.exit, p.instance.exitTs)
  })
}

/** Derives the instances of `pids` and everything their change implies; see the module comment. */
export function deriveProcessesOf(ctx: DeriveContext, pids: readonly number[]): ProcessChanges {
  const changedPids = new Set<number>()
  const touched = new Set<number>()
  let written = 0
  for (const chunk of chunks(pids)) {
    const r = deriveChunk(ctx, chunk, changedPids, touched)
    written += r
  }
  return { changedPids, written, touched }
}

function deriveChunk(ctx: DeriveContext, pids: readonly number[], changedPids: Set<number>, touched: Set<number>): number {
  const { sqlite, captureId } = ctx
  const execs = loadExecs(ctx, pids)
  const exits = loadExits(ctx, pids)
  const stored = loadStored(ctx, pids)
  const computed = new Map<number, Instance[]>()
  for (const pid of pids) computed.set(pid, instancesOf(pid, execs.get(pid) ?? [], exits.get(pid) ?? []))
  const { placed, gone } = placeIds(ctx, computed, stored)
  for (const pid of pids) if (instancesChanged(placed.get(pid) ?? [], stored.get(pid) ?? [])) changedPids.add(pid)

  // The children to resolve: every instance of these PIDs, and the stored
  // instances of other PIDs whose PPID's instances changed.
  const dirty = new Set(pids)
  const children: Child[] = []
  const parentOf = new Map<number, number | null>()
  for (const list of placed.values()) {
    for (const p of list) {
      if (p.instance.ppidSource === null) {
        parentOf.set(p.id, null)
        continue
      }
      const old = stored.get(p.instance.pid)?.find((c) => c.id === p.id)
      children.push({ id: p.id, pid: p.instance.pid, ppid: p.instance.ppid, start: p.instance.start, parentId: old?.parentId ?? null })
    }
  }
  const changedParents = [...changedPids].filter((p) => dirty.has(p))
  if (changedParents.length > 0) {
    const rows = stmt(
      sqlite,
      `SELECT p.id, p.pid, p.ppid, ${UNREFINED_START}, p.parent_id FROM process p
       WHERE p.capture_id = ? AND p.ppid ${IN_LIST} AND p.inferred = 0 AND p.ppid_source IS NOT NULL`,
    )
      .raw()
      .all(captureId, jsonList(changedParents)) as [number, number, number, number | null, number | null][]
    for (const [id, pid, ppid, start, parentId] of rows) {
      if (!dirty.has(pid)) children.push({ id, pid, ppid, start: us(start), parentId })
    }
  }

  // Parent candidates: this pass's instances for its PIDs, the stored ones for the others.
  const candidates = new Map<number, Candidate[]>()
  for (const [pid, list] of placed) candidates.set(pid, sortCandidates(list.map(candidateOf)))
  const otherPpids = [...new Set(children.map((c) => c.ppid))].filter((p) => !dirty.has(p))
  for (const [pid, list] of loadStored(ctx, otherPpids)) candidates.set(pid, sortCandidates(list))
  const placeholders = loadPlaceholders(ctx, [...new Set(children.map((c) => c.ppid))])
  const newPlaceholders = new Map<number, number>()
  const formerParents = new Set<number>()
  for (const child of children) {
    let parent: number | null = null
    if (child.ppid !== child.pid) {
      parent = pickParent(child.start, candidates.get(child.ppid) ?? [])?.id ?? null
      if (parent === null) {
        parent = placeholders.get(child.ppid) ?? newPlaceholders.get(child.ppid) ?? null
        if (parent === null) {
          parent = NaN // given below, once the number of new placeholders is known
          newPlaceholders.set(child.ppid, NaN)
        }
      }
    }
    if (child.parentId !== null) formerParents.add(child.parentId)
    parentOf.set(child.id, parent)
  }
  if (newPlaceholders.size > 0) {
    let next = allocateIds(sqlite, 'process', newPlaceholders.size)
    for (const ppid of newPlaceholders.keys()) {
      newPlaceholders.set(ppid, next++)
      changedPids.add(ppid)
    }
    for (const child of children) {
      if (Number.isNaN(parentOf.get(child.id))) parentOf.set(child.id, newPlaceholders.get(child.ppid)!)
    }
  }
  cutCycles(ctx, children, parentOf, placed)

  // Write: the instances of these PIDs (whole rows), the parents of the
  // other children, the new placeholders; then drop what is gone.
  let written = writeInstances(ctx, placed, parentOf)
  const moveParent = stmt(sqlite, 'UPDATE process SET parent_id = ? WHERE id = ? AND parent_id IS NOT ?')
  for (const child of children) {
    if (dirty.has(child.pid)) continue
    const parent = parentOf.get(child.id) ?? null
    if (parent !== child.parentId) written += moveParent.run(parent, child.id, parent).changes
  }
  written += insertPlaceholders(ctx, newPlaceholders)
  if (gone.length > 0) {
    const goneIds = new Set(gone)
    for (const list of stored.values()) for (const c of list) if (goneIds.has(c.id) && c.parentId !== null) formerParents.add(c.parentId)
    written += stmt(sqlite, `DELETE FROM process WHERE id ${IN_LIST}`).run(jsonList(gone)).changes
  }
  written += dropChildlessPlaceholders(ctx, formerParents, changedPids)
  linkEvidence(ctx, placed)
  // what a fork-only instance's placement reads: its own rows, its parent's and children's times, its links
  const ids: number[] = []
  for (const list of placed.values()) for (const p of list) ids.push(p.id)
  for (const id of ids) touched.add(id)
  for (const child of children) touched.add(child.id)
  for (const parent of parentOf.values()) if (parent !== null) touched.add(parent)
  for (const former of formerParents) touched.add(former)
  for (const chunk of chunks(ids)) {
    for (const id of stmt(sqlite, `SELECT id FROM process WHERE parent_id ${IN_LIST}`).pluck().all(jsonList(chunk)) as number[]) touched.add(id)
  }
  return written
}

/** Inserts a placeholder instance (`inferred`: seen only as a PPID) per PPID; `ids` maps PPID to id. */
export function insertPlaceholders(ctx: DeriveContext, ids: ReadonlyMap<number, number>): number {
  const insert = stmt(
    ctx.sqlite,
    `INSERT INTO process (id, capture_id, pid, exec_count, failed_exec_count, seen_exec, seen_exit, inferred, fork_only)
     VALUES (?, ?, ?, 0, 0, 0, 0, 1, 0)`,
  )
  let n = 0
  for (const [ppid, id] of ids) n += insert.run(id, ctx.captureId, ppid).changes
  return n
}

/** The placeholder of each PPID, where there is one. */
function loadPlaceholders(ctx: DeriveContext, ppids: readonly number[]): Map<number, number> {
  const rows = stmt(ctx.sqlite, `SELECT pid, id FROM process WHERE capture_id = ? AND pid ${IN_LIST} AND inferred = 1`)
    .raw()
    .all(ctx.captureId, jsonList(ppids)) as [number, number][]
  return new Map(rows)
}

/** Placeholders among `ids` that have no child any more are deleted; their PIDs count as changed. */
function dropChildlessPlaceholders(ctx: DeriveContext, ids: ReadonlySet<number>, changedPids: Set<number>): number {
  if (ids.size === 0) return 0
  const dropped = stmt(
    ctx.sqlite,
    `DELETE FROM process WHERE id ${IN_LIST} AND inferred = 1
       AND NOT EXISTS (SELECT 1 FROM process c WHERE c.parent_id = process.id)
     RETURNING pid`,
  )
    .pluck()
    .all(jsonList(ids)) as number[]
  for (const pid of dropped) changedPids.add(pid)
  return dropped.length
}

/** Breaks cycles through the links set in this pass ({@link breakCycles}). */
function cutCycles(
  ctx: DeriveContext,
  children: readonly Child[],
  parentOf: Map<number, number | null>,
  placed: ReadonlyMap<number, Placed[]>,
): void {
  const nodes = new Map<number, Node>()
  for (const c of children) nodes.set(c.id, { id: c.id, pid: c.pid, start: c.start })
  for (const list of placed.values()) for (const p of list) nodes.set(p.id, { id: p.id, pid: p.instance.pid, start: p.instance.start })
  const storedParent = stmt(ctx.sqlite, 'SELECT parent_id FROM process WHERE id = ?').pluck()
  const storedNode = stmt(ctx.sqlite, `SELECT p.id, p.pid, ${UNREFINED_START} AS start FROM process p WHERE p.id = ?`)
  breakCycles(
    children.map((c) => c.id),
    (id) => (parentOf.has(id) ? parentOf.get(id)! : ((storedParent.get(id) as number | null | undefined) ?? null)),
    (id) => {
      const n = nodes.get(id)
      if (n) return n
      const row = storedNode.get(id) as { id: number; pid: number; start: number | null }
      return { id: row.id, pid: row.pid, start: us(row.start) }
    },
    (id) => parentOf.set(id, null),
  )
}

/** The process row's columns, after `id`. */
const COLUMNS = [
  'capture_id', 'pid', 'ppid', 'ppid_source', 'parent_id', 'comm', 'filename', 'args', 'exec_count',
  'failed_exec_count', 'start_ts', 'start_source', 'exec_ts', 'exec_time_text', 'exit_ts', 'exit_time_text',
  'lifetime_s', 'exit_code', 'signal', 'core_dumped', 'seen_exec', 'seen_exit', 'inferred', 'fork_only',
  'start_precision', 'exit_precision',
]

/** A process row as written: its numbers, and the line ids its text columns are copied from. */
export interface InstanceRow {
  readonly id: number
  readonly pid: number
  readonly ppid: number | null
  readonly ppidSource: PpidSource
  readonly parentId: number | null
  readonly execCount: number
  readonly failedExecCount: number
  /** µs */
  readonly start: number | null
  readonly startSource: StartSource
  readonly startPrecision: TimePrecision
  /** µs */
  readonly exitTs: number | null
  readonly exitPrecision: TimePrecision
  readonly seenExit: boolean
  readonly forkOnly: boolean
  /** line ids: last successful exec, first successful exec, first exec, the exit */
  readonly lastOk: number | null
  readonly firstOk: number | null
  readonly first: number | null
  readonly exit: number | null
}

/**
 * Upserts process rows; an unchanged row is left as it is. The text
 * columns come from the exec/exit rows themselves (by line id): lo = last
 * successful exec, fo = first successful exec, fe = first exec, x = the exit.
 * Values per row (v.column1..18): id, capture_id, pid, ppid, ppid_source,
 * parent_id, exec_count, failed_exec_count, start (µs), start_source,
 * seen_exec, seen_exit, inferred, fork_only, the line ids of lo, fo, fe, x, then the exit (µs),
 * start_precision and exit_precision.
 */
export function writeInstanceRows(ctx: DeriveContext, rows: Iterable<InstanceRow>): number {
  const upserts = batchOf(
    ctx.sqlite,
    (n) => `INSERT INTO process (id, ${COLUMNS.join(', ')})
     SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, coalesce(lo.comm, x.comm, fe.comm), lo.filename, lo.args,
       v.column7, v.column8, CAST(v.column9 AS INTEGER) * 1000, v.column10, (fo.ts / 1000) * 1000, fo.time_text,
       CAST(v.column19 AS INTEGER) * 1000, x.time_text, x.age_s, x.exit_code, x.signal, x.core_dumped, v.column11, v.column12, v.column13, v.column14,
       v.column20, v.column21
     FROM (VALUES ${valuesSql(21, n)}) AS v
       LEFT JOIN execsnoop_event lo ON lo.line_id = v.column15
       LEFT JOIN execsnoop_event fo ON fo.line_id = v.column16
       LEFT JOIN execsnoop_event fe ON fe.line_id = v.column17
       LEFT JOIN exitsnoop_event x ON x.line_id = v.column18
     WHERE true
     ON CONFLICT (id) DO UPDATE SET ${COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}
     WHERE ${COLUMNS.map((c) => `${c} IS NOT excluded.${c}`).join(' OR ')}`,
    21,
  )
  let n = 0
  for (const r of rows) {
    upserts.values.push(
      r.id, ctx.captureId, r.pid, r.ppid, r.ppidSource, r.parentId, r.execCount, r.failedExecCount, r.start, r.startSource,
      r.execCount > 0 ? 1 : 0, r.seenExit ? 1 : 0, 0, r.forkOnly ? 1 : 0, r.lastOk, r.firstOk, r.first, r.exit,
      r.exitTs, r.startPrecision, r.exitPrecision,
    )
    upserts.added()
    n++
  }
  upserts.flush()
  return n
}

/** Writes the instances of `placed` with their parents. */
function writeInstances(ctx: DeriveContext, placed: ReadonlyMap<number, Placed[]>, parentOf: ReadonlyMap<number, number | null>): number {
  const rows = function* (): Generator<InstanceRow> {
    for (const list of placed.values()) {
      for (const { id, instance: i } of list) {
        const s = summarize(i)
        yield {
          id,
          pid: i.pid,
          ppid: i.ppidSource === null ? null : i.ppid,
          ppidSource: i.ppidSource,
          parentId: parentOf.get(id) ?? null,
          execCount: s.execCount,
          failedExecCount: s.failedExecCount,
          start: Number.isNaN(i.start) ? null : i.start,
          startSource: i.startSource,
          startPrecision: i.startPrecision,
          exitTs: Number.isNaN(i.exitTs) ? null : i.exitTs,
          exitPrecision: i.exitPrecision,
          seenExit: i.exit !== null,
          forkOnly: i.exit !== null && i.execs.length === 0,
          lastOk: s.lastOk?.line ?? null,
          firstOk: s.firstOk?.line ?? null,
          first: s.first?.line ?? null,
          exit: i.exit?.line ?? null,
        }
      }
    }
  }
  return writeInstanceRows(ctx, rows())
}

/** Sets `process_id` of the exec and exit rows whose instance changed. */
function linkEvidence(ctx: DeriveContext, placed: ReadonlyMap<number, Placed[]>): void {
  const update = (table: string): RowBatch =>
    batchOf(
      ctx.sqlite,
      (rows) => `UPDATE ${table} SET process_id = v.column2 FROM (VALUES ${valuesSql(2, rows)}) AS v WHERE ${table}.line_id = v.column1`,
      2,
    )
  const execs = update('execsnoop_event')
  const exits = update('exitsnoop_event')
  for (const list of placed.values()) {
    for (const { id, instance } of list) {
      for (const e of instance.execs) {
        if (e.processId === id) continue
        execs.values.push(e.line, id)
        execs.added()
      }
      const x = instance.exit
      if (x && x.processId !== id) {
        exits.values.push(x.line, id)
        exits.added()
      }
    }
  }
  execs.flush()
  exits.flush()
}
