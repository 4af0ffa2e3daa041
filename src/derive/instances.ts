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
/** What a placed time is worth (process.start_precision / exit_precision). */
export type TimePrecision = 'ms' | '10ms' | '100ms' | 's' | null

export interface Instance {
  readonly pid: number
  /** 0 when unknown */
  readonly ppid: number
  readonly ppidSource: PpidSource
  /** µs, NaN when unknown */
  readonly start: number
  readonly startSource: StartSource
  readonly startPrecision: TimePrecision
  /** µs, NaN when unknown: the exit placed by the most precise evidence (see {@link place}) */
  readonly exitTs: number
  readonly exitPrecision: TimePrecision
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
    case '10ms':
      return 10_000
    case '100ms':
      return 100_000
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
  return all.map(place)
}

/** exitsnoop prints AGE with 2 decimals: the true age is within this (µs) of it. */
const AGE_SLACK = 5_000

/** The label of a time known within `width` µs. */
export function precisionOf(width: number): TimePrecision {
  if (Number.isNaN(width)) return null
  if (width <= 1_000) return 'ms'
  if (width <= 10_000) return '10ms'
  if (width <= 100_000) return '100ms'
  return 's'
}

/**
 * Places an instance by its most precise evidence:
 * - an exec'd process whose first exec is printed more precisely than its
 *   exit (execsnoop -T -t: ms; exitsnoop -t: whole seconds) starts at (just
 *   before) that exec and exits at start + AGE, as long as that agrees with
 *   the exit's printed second (else the exec came long after the fork, and
 *   the exit's time stands);
 * - otherwise it starts at exit − AGE (fork-only processes, ms exits), or at
 *   its first exec when its exit was not seen;
 * - the exit is the printed exit time.
 * A second-precision exit is refined by ms evidence, never the other way round.
 */
function place(i: Building): Instance {
  const x = i.exit
  const first = i.execs.find((e) => !Number.isNaN(e.ts))
  let start = i.start
  let startPrecision: TimePrecision = Number.isNaN(start) ? null : precisionOf(i.startSource === 'exec' ? (first?.width ?? NaN) : (x?.width ?? NaN) + AGE_SLACK)
  let exitTs = x?.ts ?? NaN
  let exitPrecision: TimePrecision = x && !Number.isNaN(x.ts) ? precisionOf(x.width) : null
  let startSource = i.startSource
  if (x && !Number.isNaN(x.ts) && !Number.isNaN(x.age) && first && first.width < x.width) {
    const age = Math.round(x.age * 1e6)
    // the fork lies within the exit's printed interval minus AGE; the exec
    // (printed when it completed) just after it
    const lo = x.ts - age - AGE_SLACK - first.width
    const hi = x.ts + x.width - age + AGE_SLACK + first.width
    if (first.ts >= lo && first.ts <= hi) {
      start = first.ts
      startSource = 'exec'
      startPrecision = precisionOf(first.width)
      exitTs = first.ts + age
      exitPrecision = precisionOf(Math.max(first.width, 2 * AGE_SLACK))
    }
  }
  return {
    pid: i.pid,
    ppid: i.ppid,
    ppidSource: i.ppidSource,
    start,
    startSource,
    startPrecision,
    exitTs,
    exitPrecision,
    exit: x,
    execs: i.execs,
  }
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
