import type { Store } from '../../src/store/open.js'
import { relative } from 'node:path'

/**
 * A canonical dump of a capture, free of surrogate ids and of where files
 * were when they were read: active sources by path relative to `root`, their
 * lines, each tool's records (with the process instance each is linked to),
 * the process tree as (pid, start) pairs, and the TCP connections.
 */
export function canonicalDump(store: Store, root: string): Record<string, unknown> {
  const s = store.sqlite
  const keyOf = s.prepare("SELECT pid || '@' || coalesce(start_ts, exec_ts, exit_ts, '') FROM process WHERE id = ?").pluck()
  const instanceKey = (id: unknown): unknown => (id === null || id === undefined ? null : keyOf.get(id))
  const sources = s
    .prepare("SELECT id, path, format, committed_offset FROM source WHERE state = 'active' ORDER BY path")
    .all() as { id: number; path: string; format: string | null; committed_offset: number }[]
  const lines: Record<string, unknown[]> = {}
  const records: Record<string, unknown[]> = {}
  for (const src of sources) {
    const key = relative(root, src.path)
    lines[key] = s
      .prepare('SELECT line_no, byte_offset, kind, raw, detail, partial FROM log_line WHERE source_id = ? ORDER BY line_no')
      .raw()
      .all(src.id)
    if (src.format) {
      records[key] = s
        .prepare(
          `SELECT l.line_no, e.* FROM ${src.format}_event e JOIN log_line l ON l.id = e.line_id WHERE e.source_id = ? ORDER BY l.line_no`,
        )
        .all(src.id)
        .map((r) => {
          const { line_id: _a, capture_id: _b, source_id: _c, process_id, ...rest } = r as Record<string, unknown>
          // the linked process instance, by what identifies it rather than its id
          return { ...rest, process: instanceKey(process_id) }
        })
    }
  }
  const processes = s
    .prepare(
      `SELECT p.pid, p.ppid, p.start_ts, p.exit_ts, p.comm, p.args, p.exec_count, p.lifetime_s, p.exit_code, p.signal,
              p.seen_exec, p.seen_exit, p.inferred, p.fork_only, p.start_source, p.start_precision, p.exit_precision,
              parent.pid AS parent_pid, parent.start_ts AS parent_start
       FROM process p LEFT JOIN process parent ON parent.id = p.parent_id
       ORDER BY p.pid, p.start_ts, p.exit_ts, p.args`,
    )
    .raw()
    .all()
  const connections = s
    .prepare(
      `SELECT skaddr, side, laddr, lport, raddr, rport, handshake_ms, start_ts, established_ts, closed_ts, states,
              transitions, complete, lifetime_ms, tx_kb, rx_kb, retransmits, loss_probes,
              (SELECT string_agg(x, ',') FROM (
                 SELECT cp.evidence || ':' || cp.pid || ':' || coalesce(p.pid || '@' || coalesce(p.start_ts, p.exec_ts, p.exit_ts, ''), '') AS x
                 FROM tcp_connection_pid cp LEFT JOIN process p ON p.id = cp.process_id
                 WHERE cp.connection_id = c.id ORDER BY x)) AS pids
       FROM tcp_connection c
       ORDER BY start_ts, skaddr, side, lport, rport`,
    )
    .raw()
    .all()
  return { lines, records, processes, connections }
}
