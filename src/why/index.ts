/**
 * `tracedb why PID`: where a session's time goes, composed from five named
 * queries (queries/time-split.sql, critical-path.sql, self-time.sql,
 * repeats.sql, runq-wait.sql). Every figure here is a row of one of them:
 * this module only picks rows and names them, so `tracedb query time-split
 * PID` (or the sqlite3 shell, or PostgreSQL) reproduces what `why` says.
 *
 * It reads through a `Reader`, so it works on every engine a reader does.
 */
import { QueryError, UsageError } from '../errors.js'
import { loadCatalog, QUERIES_DIR, type NamedQuery } from '../queries/catalog.js'
import type { Value } from '../queries/run.js'
import type { CaptureInfo, Reader } from '../store/reader.js'

/** Which processes are sessions (the `sessions` parameter of the queries). */
export type SessionsMode = 'auto' | 'children' | 'root'
export const SESSIONS_MODES: readonly SessionsMode[] = ['auto', 'children', 'root']

/** The queries `why` composes, by name. */
export const WHY_QUERIES = ['time-split', 'critical-path', 'self-time', 'repeats', 'runq-wait'] as const

export interface WhyOptions {
  readonly pid: number
  /** Capture name; default: the most recently ingested. */
  readonly capture?: string | undefined
  readonly sessions?: SessionsMode | undefined
  /** How many self-time and repeat rows per session (default 5). */
  readonly top?: number | undefined
  /** Extra directories of named queries (they may override the five). */
  readonly queries?: readonly string[] | undefined
}

/** One process named in the answer. */
export interface WhyProcess {
  readonly pid: number
  /** process.id: the instance (PIDs are reused). */
  readonly id: number
  /** Its arguments as exec'd, else its command name. */
  readonly command: string
  readonly comm: string | null
  /** Forked and never exec'd (seen by exitsnoop only). */
  readonly fork: boolean
}

export interface WhySubtree extends WhyProcess {
  /** Processes in the subtree (its head included). */
  readonly processes: number
  /** Wall time the subtree covers within the session (union of its lifetimes). */
  readonly ms: number
  /** ms as a fraction of the session's wall time. */
  readonly share: number | null
}

export interface WhyStep extends WhyProcess {
  readonly ms: number
  readonly share: number | null
  /** Fraction of its parent's lifetime (within the session) this step covers. */
  readonly of_parent: number | null
}

export interface WhySelf extends WhyProcess {
  /** Lifetime minus the union of its children's lifetimes. */
  readonly ms: number
  readonly lifetime_ms: number
  readonly children_ms: number
  readonly share: number | null
}

export interface WhyRepeat {
  readonly executable: string
  /** `exec`: the file exec'd; `fork`: forks that never exec'd, by command name. */
  readonly seen: 'exec' | 'fork'
  readonly runs: number
  /** Lifetimes summed. */
  readonly total_ms: number
  readonly max_ms: number
  readonly first_pid: number
}

export interface WhyRunqProcess extends WhyProcess {
  readonly waits: number
  readonly wait_ms: number
  readonly max_ms: number | null
}

export interface WhyRunq {
  /** Processes of the session that waited at least once. */
  readonly processes: number
  readonly waits: number
  readonly wait_ms: number
  readonly max_ms: number | null
  readonly top: readonly WhyRunqProcess[]
}

/** Level 0 of a server root: the level-1 sessions' subtrees grouped by command name. */
export interface WhyAcross {
  readonly comm: string
  readonly sessions: number
  readonly processes: number
  /** Summed over the sessions. */
  readonly ms: number
  /** The sessions' summed wall time. */
  readonly of_ms: number
  /** Of the sessions' summed wall time. */
  readonly share: number | null
}

export interface WhySession extends WhyProcess {
  /** 0: the root; 1: a direct child of a server root. */
  readonly level: number
  readonly wall_ms: number
  readonly processes: number
  /** Never seen starting: named only as its children's parent. */
  readonly started_before_capture: boolean
  /** No exit seen: its wall time runs to the last instant of the capture. */
  readonly running_at_end: boolean
  readonly subtrees: readonly WhySubtree[]
  /** The session's time with none of its children running. */
  readonly itself_ms: number
  readonly itself_share: number | null
  readonly critical_path: readonly WhyStep[]
  readonly self: readonly WhySelf[]
  readonly repeats: readonly WhyRepeat[]
  /** null when runqslower was not captured. */
  readonly runq: WhyRunq | null
  /** Only on a root whose direct children are sessions. */
  readonly across: readonly WhyAcross[]
}

export interface WhyResult {
  readonly capture: CaptureInfo
  readonly pid: number
  readonly sessions_mode: SessionsMode
  /** Every instance of PID in the capture (usually one). */
  readonly roots: readonly WhySession[]
  /** The roots' direct children when a root is a server, else the roots themselves. */
  readonly sessions: readonly WhySession[]
  /** True when the root is a server: its direct children are the sessions. */
  readonly server: boolean
  /** Whether runqslower was captured. */
  readonly runq_captured: boolean
}

type Row = Record<string, Value>

const num = (v: Value | undefined): number => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : Number(v ?? 0))
const numOrNull = (v: Value | undefined): number | null => (v === null || v === undefined ? null : num(v))
const str = (v: Value | undefined): string => (v === null || v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('utf8') : String(v))
const strOrNull = (v: Value | undefined): string | null => (v === null || v === undefined ? null : str(v))

function proc(r: Row): WhyProcess {
  return { pid: num(r.pid), id: num(r.id), command: str(r.command), comm: strOrNull(r.comm), fork: num(r.fork_only) === 1 }
}

/** The five queries, from `queries/` (and `--queries` directories). */
export function whyQueries(dirs: readonly string[] = []): Record<(typeof WHY_QUERIES)[number], NamedQuery> {
  const catalog = loadCatalog([QUERIES_DIR, ...dirs])
  const out: Partial<Record<(typeof WHY_QUERIES)[number], NamedQuery>> = {}
  for (const name of WHY_QUERIES) {
    const q = catalog.get(name)
    if (!q) throw new QueryError(`named query "${name}" not found`, { hint: 'tracedb why needs queries/time-split.sql and its siblings; reinstall tracedb' })
    out[name] = q
  }
  return out as Record<(typeof WHY_QUERIES)[number], NamedQuery>
}

/** Checks a `--sessions` value. */
export function sessionsMode(text: string | undefined): SessionsMode {
  if (text === undefined) return 'auto'
  if ((SESSIONS_MODES as readonly string[]).includes(text)) return text as SessionsMode
  throw new UsageError(`--sessions must be auto, children or root, got "${text}"`, {
    hint: 'children: the direct children of PID are the sessions; root: PID alone is the session; auto: children when PID is a server',
  })
}

const bySession = (rows: readonly Row[]): Map<number, Row[]> => {
  const out = new Map<number, Row[]>()
  for (const r of rows) {
    const k = num(r.session_id)
    const list = out.get(k)
    if (list) list.push(r)
    else out.set(k, [r])
  }
  return out
}

/**
 * Runs the five queries for PID and assembles the answer.
 *
 * ### Examples
 * ```ts
 * const reader = await openReader('tracedb.db')
 * const w = await why(reader, { pid: 8852 })
 * w.sessions[0]?.subtrees[0]  // { pid: 8864, command: '/bin/bash', ms: 180, share: 0.42, ... }
 * ```
 */
export async function why(reader: Reader, options: WhyOptions): Promise<WhyResult> {
  const mode = options.sessions ?? 'auto'
  const top = options.top ?? 5
  const q = whyQueries(options.queries ?? [])
  const capture = await reader.resolveCapture({ name: options.capture })
  const params = { pid: options.pid, sessions: mode }
  const [split, path, self, repeats, runq] = await Promise.all([
    reader.runNamed(q['time-split'], params, capture.id),
    reader.runNamed(q['critical-path'], params, capture.id),
    reader.runNamed(q['self-time'], params, capture.id),
    reader.runNamed(q.repeats, params, capture.id),
    reader.runNamed(q['runq-wait'], params, capture.id),
  ])
  const heads = split.rows.filter((r) => r.kind === 'session')
  if (heads.length === 0) {
    throw new QueryError(`pid ${String(options.pid)} is not in capture "${capture.name}"`, {
      hint: 'no execsnoop or exitsnoop line of this capture names it, as a process or as a parent; `tracedb query processes TEXT` finds PIDs by command, `--capture NAME` picks another capture',
    })
  }
  const splitBy = bySession(split.rows)
  const pathBy = bySession(path.rows)
  const selfBy = bySession(self.rows)
  const repeatsBy = bySession(repeats.rows)
  const runqBy = bySession(runq.rows)
  const runqCaptured = !runq.rows.some((r) => r.kind === 'status')

  const session = (head: Row): WhySession => {
    const sid = num(head.session_id)
    const rows = splitBy.get(sid) ?? []
    const itself = rows.find((r) => r.kind === 'itself')
    const rq = runqBy.get(sid) ?? []
    const total = rq.find((r) => r.kind === 'total')
    return {
      ...proc(head),
      level: num(head.level),
      wall_ms: num(head.wall_ms),
      processes: num(head.processes),
      started_before_capture: num(head.start_known) === 0,
      running_at_end: num(head.exit_known) === 0,
      subtrees: rows
        .filter((r) => r.kind === 'subtree')
        .map((r) => ({ ...proc(r), processes: num(r.processes), ms: num(r.ms), share: numOrNull(r.share) })),
      itself_ms: num(itself?.ms),
      itself_share: numOrNull(itself?.share),
      critical_path: (pathBy.get(sid) ?? []).map((r) => ({ ...proc(r), ms: num(r.ms), share: numOrNull(r.share), of_parent: numOrNull(r.of_parent) })),
      self: (selfBy.get(sid) ?? [])
        .filter((r) => num(r.ns) > 0)
        .slice(0, top)
        .map((r) => ({ ...proc(r), ms: num(r.ms), lifetime_ms: num(r.lifetime_ms), children_ms: num(r.children_ms), share: numOrNull(r.share) })),
      repeats: (repeatsBy.get(sid) ?? []).slice(0, top).map((r) => ({
        executable: str(r.executable),
        seen: r.seen === 'fork' ? 'fork' : 'exec',
        runs: num(r.runs),
        total_ms: num(r.total_ms),
        max_ms: num(r.max_ms),
        first_pid: num(r.first_pid),
      })),
      runq:
        runqCaptured && total
          ? {
              processes: num(total.processes),
              waits: num(total.waits),
              wait_ms: num(total.wait_ms),
              max_ms: numOrNull(total.max_ms),
              top: rq
                .filter((r) => r.kind === 'process')
                .slice(0, top)
                .map((r) => ({ ...proc(r), waits: num(r.waits), wait_ms: num(r.wait_ms), max_ms: numOrNull(r.max_ms) })),
            }
          : null,
      across: rows
        .filter((r) => r.kind === 'across')
        .map((r) => ({ comm: str(r.comm), sessions: num(r.sessions), processes: num(r.processes), ms: num(r.ms), of_ms: num(r.of_ms), share: numOrNull(r.share) })),
    }
  }
  const all = heads.map(session)
  const roots = all.filter((s) => s.level === 0)
  const children = all.filter((s) => s.level === 1)
  return {
    capture,
    pid: options.pid,
    sessions_mode: mode,
    roots,
    sessions: children.length > 0 ? children : roots,
    server: children.length > 0,
    runq_captured: runqCaptured,
  }
}
