/**
 * The instances of one PID, from that PID's exec and exit rows alone: a pure
 * function of the rows (their order in the arrays does not matter), so the
 * result is the same whichever batch brought them and in whichever order
 * the files were read.
 *
 * - Each exit (of a whole process) is an instance; it started at its exit
 *   time minus exitsnoop's AGE.
 * - Each exec joins the instance of its PID alive at the exec's time. A
 *   printed time stands for an interval (`10:00:01` is any instant of that
 *   second), so the exec goes to the instance whose span lies nearest to
 *   that interval and, among those that hold it, overlaps it most: an exec
 *   printed `10:00:01` belongs to the instance that started at 10:00:01.3,
 *   not to the one that exited at 10:00:01.000.
 * - An exec that no exit covers continues the PID's open exec-only instance
 *   (the process outlived the capture, or its exit was not captured), unless
 *   an exit of the PID came in between: then the PID was reused.
 * - The parent PID is the earliest one seen (exec before exit: the kernel
 *   reparents orphans, so a later PPID may be 1 or a subreaper).
 */

/** Times are µs since the epoch as plain numbers (exact below 2^53); NaN when unknown. */
interface EvidenceRow {
  readonly line: number
  /** order of the row's source among the capture's sources (by path) */
  readonly rank: number
  /** the instance the row was linked to before (its id), or null */
  readonly processId: number | null
  readonly pid: number
  /** 0 when unknown */
  readonly ppid: number
  readonly ts: number
  /** how wide the printed time is, in µs (1 s for whole seconds) */
  readonly width: number
}

export interface ExecRow extends EvidenceRow {
  /** the exec succeeded (ret NULL or 0) */
  readonly ok: boolean
}

export interface ExitRow extends EvidenceRow {
  /** exitsnoop AGE in seconds (NaN when not printed) */
  readonly age: number
}

export type StartSource = 'exit_age' | 'exec' | null
export type PpidSource = 'exec' | 'exit' | null

export interface Instance {
  readonly pid: number
  /** 0 when unknown */
  readonly ppid: number
  readonly ppidSource: PpidSource
  /** µs, NaN when unknown */
  readonly start: number
  readonly startSource: StartSource
  readonly exit: ExitRow | null
  /** the execs of the instance, in time order */
  readonly execs: readonly ExecRow[]
}

/** Slack, in µs, between two tools' print-time clocks (each prints when it reads the event, not when it happened). */
export const TOLERANCE = 2_000_000

/** How wide a printed time is, in µs, by its `ts_precision`. */
export function precisionWidth(precision: string | null): number {
  switch (precision) {
    case 's':
      return 1_000_000
    case 'ms':
      return 1_000
    case null:
    default:
      return 1 // derived (µs) or unknown: a point
  }
}

/** Time order; ties and rows without times in file order (source, then line). */
function byTime(a: { ts: number; rank: number; line: number }, b: { ts: number; rank: number; line: number }): number {
  const ta = a.ts
  const tb = b.ts
  if (ta !== tb) {
    if (Number.isNaN(ta)) return Number.isNaN(tb) ? a.rank - b.rank || a.line - b.line : 1
    if (Number.isNaN(tb)) return -1
    return ta - tb
  }
  return a.rank - b.rank || a.line - b.line
}

interface Building {
  pid: number
  ppid: number
  ppidSource: PpidSource
  start: number
  startSource: StartSource
  exit: ExitRow | null
  execs: ExecRow[]
}

/** The span [from, to] (µs) an exit instance may have covered: from its earliest start to its latest exit. */
function span(i: Building): { from: number; to: number } {
  const exit = i.exit!
  return { from: Number.isNaN(i.start) ? exit.ts : i.start, to: exit.ts + exit.width }
}

/**
 * The exit instance an exec with a time belongs to: nearest span first (the
 * distance between the exec's interval and the span, within TOLERANCE), then
 * the largest overlap, then the earliest exit.
 */
function exitInstanceFor(exec: ExecRow, candidates: readonly Building[]): Building | undefined {
  const a = exec.ts
  const b = exec.ts + exec.width
  let best: Building | undefined
  let bestDistance = 0
  let bestOverlap = 0
  for (const c of candidates) {
    if (Number.isNaN(c.exit!.ts)) continue
    const { from, to } = span(c)
    const distance = Math.max(0, from - b, a - to)
    if (distance > TOLERANCE) continue
    const overlap = Math.max(0, Math.min(b, to) - Math.max(a, from))
    if (
      best === undefined ||
      distance < bestDistance ||
      (distance === bestDistance && (overlap > bestOverlap || (overlap === bestOverlap && c.exit!.ts < best.exit!.ts)))
    ) {
      best = c
      bestDistance = distance
      bestOverlap = overlap
    }
  }
  return best
}

/** The instances of one PID (all rows must have that PID), exit instances first, in time order. */
export function instancesOf(pid: number, execRows: readonly ExecRow[], exitRows: readonly ExitRow[]): Instance[] {
  const exits = [...exitRows].sort(byTime)
  const execs = [...execRows].sort(byTime)
  const fromExits: Building[] = exits.map((x) => {
    const hasStart = !Number.isNaN(x.ts) && !Number.isNaN(x.age)
    return {
      pid,
      ppid: x.ppid,
      ppidSource: x.ppid === 0 ? null : 'exit',
      start: hasStart ? x.ts - Math.round(x.age * 1e6) : NaN,
      startSource: hasStart ? 'exit_age' : null,
      exit: x,
      execs: [],
    }
  })
  const execOnly: Building[] = []
  let open: Building | undefined
  for (const e of execs) {
    let target: Building | undefined
    if (!Number.isNaN(e.ts)) {
      target = exitInstanceFor(e, fromExits)
      if (!target && open) {
        // no exit covers it: the open exec-only instance goes on, unless an
        // exit of this PID came in between (then the PID was reused)
        const lastTs = open.execs.at(-1)!.ts
        const exitBetween =
          !Number.isNaN(lastTs) && exits.some((x) => !Number.isNaN(x.ts) && x.ts > lastTs && x.ts < e.ts - TOLERANCE)
        if (!exitBetween) target = open
      }
    } else {
      // no time: the first exit instance without execs, else the open one
      target = fromExits.find((i) => i.execs.length === 0) ?? open
    }
    if (!target) {
      target = {
        pid,
        ppid: 0,
        ppidSource: null,
        start: e.ts,
        startSource: Number.isNaN(e.ts) ? null : 'exec',
        exit: null,
        execs: [],
      }
      execOnly.push(target)
      open = target
    }
    target.execs.push(e)
  }
  const all = [...fromExits, ...execOnly]
  for (const i of all) {
    // the earliest PPID seen: an exec's before the exit's
    const withPpid = i.execs.find((e) => e.ppid !== 0)
    if (withPpid) {
      i.ppid = withPpid.ppid
      i.ppidSource = 'exec'
    }
  }
  return all
}

/** The exec and exit counts and the evidence rows a process row is written from. */
export interface InstanceSummary {
  readonly execCount: number
  readonly failedExecCount: number
  /** last successful exec (comm, filename, args) */
  readonly lastOk: ExecRow | undefined
  /** first successful exec (exec time) */
  readonly firstOk: ExecRow | undefined
  readonly first: ExecRow | undefined
}

export function summarize(i: Instance): InstanceSummary {
  const ok = i.execs.filter((e) => e.ok)
  return {
    execCount: ok.length,
    failedExecCount: i.execs.length - ok.length,
    lastOk: ok.at(-1),
    firstOk: ok[0],
    first: i.execs[0],
  }
}
