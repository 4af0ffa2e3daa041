/**
 * The parent rule: a child's parent is the instance of its PPID alive when
 * the child started (within TOLERANCE for print-time clocks), the one that
 * started last among those; a child whose start is unknown takes its PPID's
 * earliest instance. A PPID with no such instance gets one placeholder
 * instance (`inferred`), shared by all its orphans, removed once it has no
 * child left.
 */
import { TOLERANCE } from './instances.js'

/** An instance as a parent candidate (µs; NaN when unknown). */
export interface Candidate {
  readonly id: number
  readonly start: number
  readonly exit: number
}

/** Candidates in the rule's order of preference for equal scores: by start (unknown first), then exit, then id. */
export function sortCandidates<T extends Candidate>(list: T[]): T[] {
  const s = (v: number): number => (Number.isNaN(v) ? -Infinity : v)
  const e = (v: number): number => (Number.isNaN(v) ? Infinity : v)
  return list.sort((a, b) => s(a.start) - s(b.start) || e(a.exit) - e(b.exit) || a.id - b.id)
}

/** The parent among one PPID's instances (sorted by {@link sortCandidates}); undefined when none fits. */
export function pickParent(childStart: number, candidates: readonly Candidate[]): Candidate | undefined {
  if (Number.isNaN(childStart)) return candidates[0]
  let best: Candidate | undefined
  let bestScore = 0
  for (const c of candidates) {
    if (!Number.isNaN(c.start) && c.start - TOLERANCE > childStart) continue
    if (!Number.isNaN(c.exit) && c.exit + TOLERANCE < childStart) continue
    const score = Number.isNaN(c.start) ? -1 : c.start
    if (best === undefined || score > bestScore) {
      best = c
      bestScore = score
    }
  }
  return best
}

/** A node of the parent graph, for {@link breakCycles}. */
export interface Node {
  readonly id: number
  readonly pid: number
  readonly start: number
}

/**
 * Breaks every cycle reachable from `from` (impossible in a consistent
 * capture, but input is not always consistent; the tree queries rely on a
 * forest). `parentOf` reads the current link, `cut` removes one. In each
 * cycle the link cut is that of the member that started last (unknown start
 * counts as last; then the highest PID): a rule on the cycle itself, so the
 * same link is cut whatever order the links arrived in.
 */
export function breakCycles(
  from: Iterable<number>,
  parentOf: (id: number) => number | null,
  nodeOf: (id: number) => Node,
  cut: (id: number) => void,
): void {
  const done = new Set<number>()
  for (const start of from) {
    const path: number[] = []
    const onPath = new Map<number, number>()
    let x: number | null = start
    while (x !== null && !done.has(x)) {
      const at = onPath.get(x)
      if (at !== undefined) {
        const cycle = path.slice(at).map(nodeOf)
        const key = (n: Node): number => (Number.isNaN(n.start) ? Infinity : n.start)
        const last = cycle.reduce((a, b) => (key(b) > key(a) || (key(b) === key(a) && b.pid > a.pid) ? b : a))
        cut(last.id)
        break
      }
      onPath.set(x, path.length)
      path.push(x)
      x = parentOf(x)
    }
    for (const p of path) done.add(p)
  }
}
