import { FORMATS } from '../formats/index.js'
import type { Reader } from '../store/reader.js'

/**
 * Exports the process tree under a PID as Chrome trace-event JSON, which
 * ui.perfetto.dev and chrome://tracing open: one track per process instance
 * (reused PIDs get distinct tracks), named with comm, PID and arguments and
 * ordered depth-first; a slice for each lifetime (process.start_ts to
 * exit_ts: placed by the most precise evidence, see derive/instances.ts and
 * derive/refine.ts); instants for execs, exits,
 * and every other tool's event of that process (block I/O, files, TCP
 * state transitions, ...).
 */

/** One Chrome trace event (the subset tracedb writes). */
export interface TraceEvent {
  readonly name: string
  readonly ph: 'X' | 'i' | 'M'
  readonly pid: number
  readonly tid: number
  ts?: number
  readonly dur?: number
  readonly s?: 't' | 'p' | 'g'
  readonly cat?: string
  readonly args?: Record<string, unknown>
}

export interface TraceFile {
  readonly traceEvents: TraceEvent[]
  readonly displayTimeUnit: 'ms'
  readonly metadata: Record<string, unknown>
}

interface Node {
  id: number
  parent_id: number | null
  depth: number
  pid: number
  ppid: number | null
  comm: string | null
  args: string | null
  start_us: number | null
  exit_us: number | null
  start_precision: string | null
  exit_precision: string | null
  lifetime_s: number | null
  exit_code: number | null
  signal: number | null
  inferred: number
  fork_only: number
}

export interface PerfettoOptions {
  readonly captureId: number
  readonly pid: number
}

/**
 * ### Examples
 * ```ts
 * const reader = await openReader('tracedb.db')
 * const trace = await exportPerfetto(reader, { captureId: 1, pid: 1442 })
 * writeFileSync('trace.json', JSON.stringify(trace))
 * ```
 */
export async function exportPerfetto(reader: Reader, options: PerfettoOptions): Promise<TraceFile> {
  const at = { capture: options.captureId, pid: options.pid }
  const nodes = (
    await reader.run(
      `WITH RECURSIVE tree (id, depth) AS (
        SELECT id, 0 FROM process WHERE capture_id = :capture AND pid = :pid
        UNION ALL
        SELECT c.id, t.depth + 1 FROM process c JOIN tree t ON c.parent_id = t.id AND c.capture_id = :capture WHERE t.depth < 10000
      )
      SELECT p.id, p.parent_id, t.depth, p.pid, p.ppid, p.comm, p.args, p.start_ts / 1000 AS start_us,
             p.exit_ts / 1000 AS exit_us, p.start_precision, p.exit_precision, p.lifetime_s, p.exit_code, p.signal, p.inferred, p.fork_only
      FROM (SELECT id, max(depth) AS depth FROM tree GROUP BY id) t JOIN process p ON p.id = t.id AND p.capture_id = :capture`,
      at,
      'export',
    )
  ).rows as unknown as Node[]
  const bounds = (await reader.run('SELECT count(*) AS lines FROM log_line WHERE capture_id = :capture', at, 'export')).rows[0]
  const times = (
    await reader.run(
      `SELECT min(t) AS lo, max(t) AS hi FROM (
         SELECT start_ts / 1000 AS t FROM process WHERE capture_id = :capture UNION ALL SELECT exit_ts / 1000 FROM process WHERE capture_id = :capture) b`,
      at,
      'export',
    )
  ).rows[0] as { lo: number | null; hi: number | null } | undefined
  const lo = times?.lo ?? 0
  const hi = times?.hi ?? lo

  // depth-first order, children by start time
  const kids = new Map<number | null, Node[]>()
  const ids = new Set(nodes.map((n) => n.id))
  for (const n of nodes) {
    const parent = n.parent_id !== null && ids.has(n.parent_id) && n.depth > 0 ? n.parent_id : null
    const list = kids.get(parent) ?? []
    list.push(n)
    kids.set(parent, list)
  }
  for (const list of kids.values()) list.sort((a, b) => (a.start_us ?? -Infinity) - (b.start_us ?? -Infinity) || a.pid - b.pid)
  const ordered: Node[] = []
  const walk = (n: Node): void => {
    ordered.push(n)
    for (const k of kids.get(n.id) ?? []) walk(k)
  }
  for (const r of kids.get(null) ?? []) walk(r)

  const events: TraceEvent[] = []
  ordered.forEach((n, i) => {
    const label = `${n.comm ?? '?'} ${String(n.pid)}${n.args ? `  ${n.args.slice(0, 120).replace(/\n/g, '\\n')}` : ''}`
    events.push({ name: 'process_name', ph: 'M', pid: n.id, tid: n.id, args: { name: label } })
    events.push({ name: 'process_sort_index', ph: 'M', pid: n.id, tid: n.id, args: { sort_index: i } })
    events.push({ name: 'thread_name', ph: 'M', pid: n.id, tid: n.id, args: { name: n.comm ?? String(n.pid) } })
    const start = n.start_us ?? lo
    const end = n.exit_us ?? hi
    events.push({
      name: n.comm ?? String(n.pid),
      cat: 'process',
      ph: 'X',
      pid: n.id,
      tid: n.id,
      ts: start,
      dur: Math.max(0, end - start),
      args: {
        pid: n.pid,
        ppid: n.ppid,
        args: n.args,
        lifetime_s: n.lifetime_s ?? 'unknown: exit not captured',
        // what the slice's ends are worth (ms, 10ms: placed by execsnoop -T -t; s: whole seconds)
        start_precision: n.start_precision,
        exit_precision: n.exit_precision,
        seen: n.inferred ? 'inferred (only as a PPID)' : n.fork_only ? 'fork without exec' : 'exec',
      },
    })
    if (n.exit_us !== null) {
      const how = n.signal !== null ? `signal ${String(n.signal)}` : `code ${String(n.exit_code ?? 0)}`
      events.push({ name: `exit ${how}`, cat: 'exit', ph: 'i', s: 't', pid: n.id, tid: n.id, ts: n.exit_us, args: { exit_code: n.exit_code, signal: n.signal } })
    }
  })

  // Every record of every tool linked to a process of the tree (PID reuse
  // aware, see derive/link.ts).
  const byId = new Map(ordered.map((n) => [n.id, n]))
  for (const f of FORMATS) {
    if (f.name === 'exitsnoop') continue
    const table = `${f.name}_event`
    if (byId.size === 0 || !(await reader.hasTable(table))) continue
    const ids = [...byId.keys()]
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500)
      const params: Record<string, number> = { capture: options.captureId }
      chunk.forEach((id, k) => (params[`p${String(k)}`] = id))
      const { rows } = await reader.run(
        `SELECT e.*, e.ts / 1000 AS ts_us FROM ${table} e WHERE e.capture_id = :capture AND e.ts IS NOT NULL AND e.process_id IN (${chunk.map((_, k) => `:p${String(k)}`).join(',')}) ORDER BY e.process_id, e.line_id`,
        params,
        'export',
      )
      for (const r of rows) {
        const us = r.ts_us as number
        const n = byId.get(r.process_id as number)
        if (!n) continue
        const args: Record<string, unknown> = {}
        for (const c of f.columns) if (r[c.name] !== null && r[c.name] !== undefined) args[c.name] = r[c.name]
        args.time_text = r.time_text
        const name =
          f.name === 'execsnoop'
            ? `exec ${typeof r.filename === 'string' ? r.filename : ''}${r.ret !== 0 ? ` (failed ${String(r.ret)})` : ''}`
            : f.name === 'tcpstates'
              ? `tcp ${String(r.oldstate)} -> ${String(r.newstate)} ${String(r.lport)}${r.rport === null ? '' : `->${Number(r.rport)}`}`
              : f.name
        events.push({ name, cat: f.name, ph: 'i', s: 't', pid: n.id, tid: n.id, ts: us, args })
      }
    }
  }
  // times are absolute µs until here, then shifted so the earliest is 0
  let origin = Infinity
  for (const e of events) if (e.ts !== undefined && e.ts < origin) origin = e.ts
  if (!Number.isFinite(origin)) origin = lo
  for (const e of events) if (e.ts !== undefined) e.ts -= origin
  return {
    traceEvents: events,
    displayTimeUnit: 'ms',
    metadata: {
      producer: 'tracedb',
      capture_id: options.captureId,
      root_pid: options.pid,
      processes: ordered.length,
      capture_lines: Number(bounds?.lines ?? 0),
      time_origin_utc: new Date(origin / 1000).toISOString(),
    },
  }
}
