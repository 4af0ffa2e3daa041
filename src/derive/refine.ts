import { chunks, IN_LIST, jsonList, stmt, type DeriveContext } from './context.js'
import { precisionOf, precisionWidth, type TimePrecision } from './instances.js'

/**
 * Fork-only processes (seen only by exitsnoop) sit inside their parent and
 * around their children.
 *
 * Their own evidence is a printed exit time and AGE: with exitsnoop `-t`
 * (whole seconds) the start (exit − AGE) is only known to the second. Their
 * neighbours often know better: a child exec'd and printed by execsnoop
 * `-T -t` started at a ms-exact time, after its parent forked; a parent
 * exec'd at a ms-exact time forked this process after that. So the start is
 * bounded by:
 * - the exit's printed interval minus AGE (± AGE's 5 ms of rounding);
 * - after the parent's start, when the parent's start is its own ms evidence;
 * - before its earliest child's start, and (waiting for its children, as a
 *   subshell does) at most AGE before its latest child's exit — each only
 *   where the children's times are their own ms evidence, and a bound that
 *   would empty the interval is dropped;
 * and the process is placed at the latest start the bounds allow (just
 * before its first child, as an exec'd process is placed just before its
 * exec), exiting at start + AGE, with the width of the bounds as precision.
 *
 * Only the neighbours' own evidence is read (never another refined time),
 * so the result does not depend on the order processes are refined in: the
 * batch driver and the one-pass driver agree. A refined row is marked
 * `start_source = 'bounded'`; the unrefined span (exit − AGE .. exit) stays
 * what the parent rule matches children against ({@link UNREFINED_START}).
 */

/** AGE is printed with 2 decimals. */
const AGE_SLACK = 5_000

/** Times (µs) that are a process's own ms evidence: not whole seconds, not refined here. */
const own = (a: string): string => `${a}.start_source = 'exec' AND ${a}.start_precision IN ('ms', '10ms', '100ms')`

/**
 * SQL (µs) of a process row's start and exit as its own evidence gives them,
 * for alias `p`: a refined (`bounded`) row's are computed again from its exit row.
 */
export const UNREFINED_START = `CASE WHEN p.start_source = 'bounded'
  THEN (SELECT x.ts / 1000 FROM exitsnoop_event x WHERE x.process_id = p.id AND (x.tid IS NULL OR x.tid = x.pid)) - CAST(round(p.lifetime_s * 1e6) AS INTEGER)
  ELSE p.start_ts / 1000 END`
export const UNREFINED_EXIT = `CASE WHEN p.start_source = 'bounded'
  THEN (SELECT x.ts / 1000 FROM exitsnoop_event x WHERE x.process_id = p.id AND (x.tid IS NULL OR x.tid = x.pid))
  ELSE p.exit_ts / 1000 END`

interface Row {
  id: number
  pid: number
  /** µs: the exit row's printed time */
  exit: number
  exitPrecision: string | null
  age: number
  parentStart: number | null
  childStart: number | null
  childExit: number | null
  /** stored now */
  startTs: number | null
  source: string | null
}

/**
 * Refines the fork-only instances among `ids` (all of the capture's when
 * `ids` is 'all'); returns the PIDs whose stored times changed.
 */
export function refineForkOnly(ctx: DeriveContext, ids: Iterable<number> | 'all'): Set<number> {
  const changed = new Set<number>()
  const select = `SELECT p.id, p.pid, x.ts / 1000 AS exit, x.ts_precision AS exitPrecision, p.lifetime_s AS age,
       (SELECT pp.start_ts / 1000 FROM process pp WHERE pp.id = p.parent_id AND ${own('pp')}) AS parentStart,
       (SELECT min(c.start_ts) / 1000 FROM process c WHERE c.parent_id = p.id AND ${own('c')}) AS childStart,
       (SELECT max(c.exit_ts) / 1000 FROM process c WHERE c.parent_id = p.id AND ${own('c')} AND c.exit_precision IN ('ms', '10ms', '100ms')) AS childExit,
       p.start_ts / 1000 AS startTs, p.start_source AS source
     FROM process p JOIN exitsnoop_event x ON x.process_id = p.id AND (x.tid IS NULL OR x.tid = x.pid)
     WHERE p.fork_only = 1 AND p.lifetime_s IS NOT NULL AND x.ts IS NOT NULL AND x.ts_precision = 's'`
  const rows: Row[] = []
  if (ids === 'all') {
    // a capture derived from scratch: only fork-only instances next to one with ms times can move
    rows.push(
      ...(stmt(
        ctx.sqlite,
        `${select} AND p.id IN (
           SELECT o.parent_id FROM process o WHERE o.capture_id = ? AND ${own('o')} AND o.parent_id IS NOT NULL
           UNION
           SELECT c.id FROM process o JOIN process c ON c.parent_id = o.id WHERE o.capture_id = ? AND ${own('o')})`,
      ).all(ctx.captureId, ctx.captureId) as Row[]),
    )
  } else {
    for (const chunk of chunks([...new Set(ids)])) rows.push(...(stmt(ctx.sqlite, `${select} AND p.id ${IN_LIST}`).all(jsonList(chunk)) as Row[]))
  }
  const update = stmt(
    ctx.sqlite,
    `UPDATE process SET start_ts = ?, exit_ts = ?, start_source = ?, start_precision = ?, exit_precision = ? WHERE id = ?
       AND (start_ts IS NOT ? OR exit_ts IS NOT ? OR start_source IS NOT ? OR start_precision IS NOT ? OR exit_precision IS NOT ?)`,
  )
  for (const r of rows) {
    const age = Math.round(r.age * 1e6)
    const width = precisionWidth(r.exitPrecision)
    const raw = r.exit - age
    let lo = raw - AGE_SLACK
    let hi = r.exit + width - age + AGE_SLACK
    const narrow = (l: number, h: number): void => {
      if (Math.max(lo, l) <= Math.min(hi, h)) {
        lo = Math.max(lo, l)
        hi = Math.min(hi, h)
      }
    }
    if (r.parentStart !== null) narrow(r.parentStart, Infinity)
    if (r.childStart !== null) narrow(-Infinity, r.childStart)
    if (r.childExit !== null) narrow(r.childExit - age - AGE_SLACK, Infinity)
    const bounded = r.parentStart !== null || r.childStart !== null || r.childExit !== null
    let start = raw
    let exit = r.exit
    let source = 'exit_age'
    let startPrecision: TimePrecision = precisionOf(width + AGE_SLACK)
    let exitPrecision: TimePrecision = precisionOf(width)
    if (bounded && hi - lo < width) {
      // just before its first child when that bounds it; else the middle
      start = r.childStart !== null && hi === r.childStart ? hi : Math.round((lo + hi) / 2)
      exit = start + age
      source = 'bounded'
      startPrecision = precisionOf(hi - lo)
      exitPrecision = precisionOf(Math.max(hi - lo, 2 * AGE_SLACK))
    }
    const s = BigInt(Math.round(start)) * 1000n
    const e = BigInt(Math.round(exit)) * 1000n
    if (update.run(s, e, source, startPrecision, exitPrecision, r.id, s, e, source, startPrecision, exitPrecision).changes > 0) changed.add(r.pid)
  }
  return changed
}
