/**
 * `why PID --vs PID_B`: two answers side by side. Sessions pair in start
 * order (the first login with the first login); within a pair, subtrees pair
 * by command — the same arguments first, then the same command name, each in
 * start order — never by rank, so a subtree that fell from first to third is
 * still compared with itself.
 */
import pc from 'picocolors'
import { escapeControls } from '../cli/sanitize.js'
import type { WhyResult, WhySession, WhySubtree } from './index.js'
import { percent, readableCommand, rootLabel, shortCommand } from './render.js'

export interface VsRow {
  readonly command: string
  readonly comm: string | null
  /** Forks that never exec'd (their command is their name). */
  readonly fork: boolean
  readonly a: { readonly pid: number; readonly ms: number; readonly share: number | null } | null
  readonly b: { readonly pid: number; readonly ms: number; readonly share: number | null } | null
  /** b.ms - a.ms; a side that is missing counts as 0 ms. */
  readonly delta_ms: number
}

export interface VsSession {
  readonly a: { readonly pid: number; readonly wall_ms: number } | null
  readonly b: { readonly pid: number; readonly wall_ms: number } | null
  readonly delta_ms: number
  readonly subtrees: readonly VsRow[]
}

export interface WhyVs {
  readonly a: WhyResult
  readonly b: WhyResult
  /** Root with root, then the sessions in start order. */
  readonly sessions: readonly VsSession[]
  /** The roots' across-sessions split by command name, when either root is a server. */
  readonly across: readonly VsRow[]
}

/** Pairs two lists of subtrees by command, then by command name, in order. */
export function matchSubtrees(a: readonly WhySubtree[], b: readonly WhySubtree[]): VsRow[] {
  // both lists are in rank order; pairing in start order keeps the k-th bash with the k-th bash
  const byStart = (x: readonly WhySubtree[]) => [...x].sort((p, q) => p.id - q.id)
  const restA = byStart(a)
  const restB = byStart(b)
  const pairs: [WhySubtree | null, WhySubtree | null][] = []
  for (const key of [(s: WhySubtree) => s.command, (s: WhySubtree) => s.comm ?? s.command]) {
    for (let i = 0; i < restA.length; ) {
      const x = restA[i] as WhySubtree
      const j = restB.findIndex((y) => key(y) === key(x))
      if (j >= 0) {
        pairs.push([x, restB[j] as WhySubtree])
        restA.splice(i, 1)
        restB.splice(j, 1)
      } else {
        i++
      }
    }
  }
  for (const x of restA) pairs.push([x, null])
  for (const y of restB) pairs.push([null, y])
  const side = (s: WhySubtree | null) => (s ? { pid: s.pid, ms: s.ms, share: s.share } : null)
  return pairs
    .map(([x, y]) => ({
      command: (x ?? y)?.command ?? '',
      comm: (x ?? y)?.comm ?? null,
      fork: (x ?? y)?.fork ?? false,
      a: side(x),
      b: side(y),
      delta_ms: (y?.ms ?? 0) - (x?.ms ?? 0),
    }))
    .sort((p, q) => Math.max(q.a?.ms ?? 0, q.b?.ms ?? 0) - Math.max(p.a?.ms ?? 0, p.b?.ms ?? 0))
}

function pairSessions(a: WhySession | undefined, b: WhySession | undefined): VsSession {
  return {
    a: a ? { pid: a.pid, wall_ms: a.wall_ms } : null,
    b: b ? { pid: b.pid, wall_ms: b.wall_ms } : null,
    delta_ms: (b?.wall_ms ?? 0) - (a?.wall_ms ?? 0),
    subtrees: matchSubtrees(a?.subtrees ?? [], b?.subtrees ?? []),
  }
}

/** The comparison of two answers. */
export function compareWhy(a: WhyResult, b: WhyResult): WhyVs {
  const sessions: VsSession[] = []
  if (a.server || b.server) sessions.push(pairSessions(a.roots[0], b.roots[0]))
  const n = Math.max(a.sessions.length, b.sessions.length)
  for (let i = 0; i < n; i++) sessions.push(pairSessions(a.sessions[i], b.sessions[i]))
  const acrossA = a.roots[0]?.across ?? []
  const acrossB = b.roots[0]?.across ?? []
  const across = [...new Set([...acrossA.map((x) => x.comm), ...acrossB.map((x) => x.comm)])].map((comm) => {
    const x = acrossA.find((r) => r.comm === comm)
    const y = acrossB.find((r) => r.comm === comm)
    return {
      command: comm,
      comm,
      fork: false,
      a: x ? { pid: 0, ms: x.ms, share: x.share } : null,
      b: y ? { pid: 0, ms: y.ms, share: y.share } : null,
      delta_ms: (y?.ms ?? 0) - (x?.ms ?? 0),
    }
  })
  return { a, b, sessions, across }
}

function delta(d: number, a: number | undefined): string {
  if (d === 0) return '='
  const sign = d > 0 ? '+' : ''
  const pct = a ? ` (${sign}${String(Math.round((d / a) * 100))}%)` : ''
  return `${sign}${String(d)} ms${pct}`
}

function table(rows: readonly string[][]): string[] {
  const widths: number[] = []
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)))
  return rows.map((r) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  )
}

const cellMs = (s: { ms: number; share: number | null } | null): string => (s ? `${String(s.ms)} ms ${percent(s.share)}` : '—')

/** The comparison as text: per session pair, the subtrees side by side with the change. */
export function renderVs(v: WhyVs, options: { color?: boolean; width?: number } = {}): string {
  const color = options.color ?? false
  const width = options.width ?? 50
  const b = (t: string): string => (color ? pc.bold(t) : t)
  const out: string[] = [
    escapeControls(`A: why pid ${String(v.a.pid)}, capture "${v.a.capture.name}"   B: why pid ${String(v.b.pid)}, capture "${v.b.capture.name}"`),
    '',
  ]
  if (v.across.length > 0) {
    out.push(b('across the sessions, by command (ms summed over the sessions)'))
    const rows = [['  command', 'A', 'B', 'change']]
    for (const r of v.across) rows.push([`  ${escapeControls(r.command)}`, cellMs(r.a), cellMs(r.b), r.a && r.b ? delta(r.delta_ms, r.a.ms) : r.a ? 'gone' : 'new'])
    out.push(...table(rows), '')
  }
  const server = v.a.server || v.b.server
  v.sessions.forEach((s, i) => {
    const isRoot = server && i === 0
    const n = server ? i : i + 1
    const sa = isRoot ? v.a.roots[0] : v.a.sessions[n - 1]
    const sb = isRoot ? v.b.roots[0] : v.b.sessions[n - 1]
    const name = isRoot ? 'root' : `session ${String(n)}`
    out.push(
      b(
        `${name}: A ${sa ? `${rootLabel(sa, 30)} ${String(sa.wall_ms)} ms` : '—'}   B ${sb ? `${rootLabel(sb, 30)} ${String(sb.wall_ms)} ms` : '—'}   ${s.a && s.b ? delta(s.delta_ms, s.a.wall_ms) : s.a ? 'gone' : 'new'}`,
      ),
    )
    const rows = [['  subtree', 'pids', 'A', 'B', 'change']]
    for (const r of s.subtrees) {
      rows.push([
        `  ${shortCommand(readableCommand(r.command), width)}${r.fork ? ' (fork)' : ''}`,
        `${r.a ? String(r.a.pid) : '—'} / ${r.b ? String(r.b.pid) : '—'}`,
        cellMs(r.a),
        cellMs(r.b),
        r.a && r.b ? delta(r.delta_ms, r.a.ms) : r.a ? 'gone' : 'new',
      ])
    }
    if (rows.length > 1) out.push(...table(rows))
    out.push('')
  })
  out.push('(subtrees are paired by command, then by command name; sessions in start order)')
  return out.join('\n') + '\n'
}
