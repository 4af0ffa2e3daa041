import type BetterSqlite3 from 'better-sqlite3'
import { tableColumns } from '../store/tables.js'

/**
 * Derives TCP connections from tcpstates transitions, per capture.
 *
 * A chain is the transitions of one socket address (SKADDR) from its open —
 * `LISTEN -> SYN_RECV` (server side) or `CLOSE -> SYN_SENT` (client side) —
 * to `-> CLOSE`; the kernel reuses socket addresses, so an address can carry
 * several connections in turn. MS is the time spent in the OLD state, so the
 * handshake latency is the MS of the `-> ESTABLISHED` transition.
 */

interface StateRow {
  line_id: number
  source_id: number
  ts: number | null // µs
  skaddr: string | null
  pid: number | null
  comm: string | null
  laddr: string | null
  lport: number | null
  raddr: string | null
  rport: number | null
  oldstate: string | null
  newstate: string | null
  ms: number | null
}

interface Connection {
  skaddr: string
  side: 'server' | 'client' | 'unknown'
  rows: StateRow[]
  closed: boolean
}

interface LifeRow {
  line_id: number
  ts: number | null
  pid: number | null
  comm: string | null
  laddr: string | null
  lport: number | null
  raddr: string | null
  rport: number | null
  tx_kb: number | null
  rx_kb: number | null
  ms: number | null
}

const TOLERANCE = 2_000_000 // µs: second-precision print-time clocks

const ns = (us: number | null | undefined): bigint | null => (us === null || us === undefined ? null : BigInt(us) * 1000n)

/** Rebuilds `tcp_connection` and `tcp_connection_pid` for a capture; returns the number of connections. */
export function deriveTcp(sqlite: BetterSqlite3.Database, captureId: number): number {
  const states = tableColumns(sqlite, 'tcpstates_event')
  if (!states.has('skaddr')) return 0
  const rank = new Map<number, number>()
  ;(sqlite.prepare('SELECT id FROM source WHERE capture_id = ? ORDER BY path, id').pluck().all(captureId) as number[]).forEach(
    (id, i) => rank.set(id, i),
  )
  const rows = sqlite
    .prepare(
      `SELECT line_id, source_id, ts / 1000 AS ts, skaddr, pid, comm, laddr, lport, raddr, rport, oldstate, newstate, ms
       FROM tcpstates_event WHERE capture_id = ? AND skaddr IS NOT NULL`,
    )
    .all(captureId) as StateRow[]
  // One tool prints transitions in order: file order within a source.
  rows.sort((a, b) => (rank.get(a.source_id) ?? 0) - (rank.get(b.source_id) ?? 0) || a.line_id - b.line_id)

  const open = new Map<string, Connection>()
  const done: Connection[] = []
  for (const r of rows) {
    const sk = r.skaddr ?? ''
    const from = r.oldstate ?? ''
    const to = r.newstate ?? ''
    if (to === 'LISTEN' || from === 'LISTEN' && to === 'CLOSE') continue // a listening socket, not a connection
    const starts = (from === 'LISTEN' && to === 'SYN_RECV') || (from === 'CLOSE' && to === 'SYN_SENT')
    let c = open.get(sk)
    if (starts || !c) {
      if (c) done.push(c) // a new open on a reused address ends the previous chain
      c = { skaddr: sk, side: starts ? (to === 'SYN_RECV' ? 'server' : 'client') : 'unknown', rows: [], closed: false }
      open.set(sk, c)
    }
    c.rows.push(r)
    if (to === 'CLOSE') {
      c.closed = true
      done.push(c)
      open.delete(sk)
    }
  }
  done.push(...open.values())

  const life = tableColumns(sqlite, 'tcplife_event').has('lport')
    ? (sqlite
        .prepare(
          `SELECT line_id, ts / 1000 AS ts, pid, comm, laddr, lport, raddr, rport, tx_kb, rx_kb, ms
           FROM tcplife_event WHERE capture_id = ?`,
        )
        .all(captureId) as LifeRow[])
    : []
  const lifeByKey = new Map<string, LifeRow[]>()
  for (const l of life) {
    const key = `${l.laddr ?? ''}|${String(l.lport)}|${l.raddr ?? ''}|${String(l.rport)}`
    const list = lifeByKey.get(key)
    if (list) list.push(l)
    else lifeByKey.set(key, [l])
  }
  // retransmits are counted only when tcpretrans was captured: NULL (not 0) otherwise
  const hasRetrans = sqlite.prepare("SELECT 1 FROM source WHERE capture_id = ? AND format = 'tcpretrans' LIMIT 1").get(captureId) !== undefined
  const countRetrans = hasRetrans
    ? sqlite.prepare(
        `SELECT
           sum(CASE WHEN type = 'L' THEN 0 ELSE 1 END) AS r,
           sum(CASE WHEN type = 'L' THEN 1 ELSE 0 END) AS l
         FROM tcpretrans_event
         WHERE capture_id = ? AND mode = 'event' AND laddr = ? AND lport = ? AND raddr = ? AND rport = ?
           AND (ts IS NULL OR (ts >= ? AND ts <= ?))`,
      )
    : undefined
  const used = new Set<number>()

  const write = sqlite.transaction(() => {
    sqlite.prepare('DELETE FROM tcp_connection_pid WHERE capture_id = ?').run(captureId)
    sqlite.prepare('DELETE FROM tcp_connection WHERE capture_id = ?').run(captureId)
    const insert = sqlite.prepare(
      `INSERT INTO tcp_connection (capture_id, skaddr, side, laddr, lport, raddr, rport, handshake_ms, start_ts,
         established_ts, closed_ts, states, transitions, complete, tcplife_line_id, lifetime_ms, tx_kb, rx_kb,
         retransmits, loss_probes)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const insertPid = sqlite.prepare(
      'INSERT OR IGNORE INTO tcp_connection_pid (connection_id, capture_id, pid, comm, evidence, ts) VALUES (?, ?, ?, ?, ?, ?)',
    )
    done.sort((a, b) => (a.rows[0]?.ts ?? 0) - (b.rows[0]?.ts ?? 0) || (a.rows[0]?.line_id ?? 0) - (b.rows[0]?.line_id ?? 0))
    for (const c of done) {
      const first = c.rows[0]
      const last = c.rows.at(-1)
      if (!first || !last) continue
      const est = c.rows.find((r) => r.newstate === 'ESTABLISHED' && (r.oldstate === 'SYN_RECV' || r.oldstate === 'SYN_SENT'))
      // the ports are known once connected (a client's first row shows LPORT 0)
      const addr = est ?? c.rows.find((r) => (r.lport ?? 0) !== 0 && (r.rport ?? 0) !== 0) ?? first
      const closedTs = c.closed ? last.ts : null
      const key = `${addr.laddr ?? ''}|${String(addr.lport)}|${addr.raddr ?? ''}|${String(addr.rport)}`
      const anchor = closedTs ?? last.ts
      let lifeRow: LifeRow | undefined
      for (const l of lifeByKey.get(key) ?? []) {
        if (used.has(l.line_id)) continue
        if (anchor !== null && l.ts !== null && Math.abs(l.ts - anchor) > TOLERANCE) continue
        if (!lifeRow || (anchor !== null && l.ts !== null && Math.abs(l.ts - anchor) < Math.abs((lifeRow.ts ?? 0) - anchor))) lifeRow = l
      }
      if (lifeRow) used.add(lifeRow.line_id)
      let retransmits: number | null = null
      let lossProbes: number | null = null
      if (countRetrans) {
        const lo = ns((first.ts ?? 0) - TOLERANCE)
        const hi = ns((closedTs ?? last.ts ?? 0) + TOLERANCE)
        const r = countRetrans.get(captureId, addr.laddr, addr.lport, addr.raddr, addr.rport, lo, hi) as { r: number | null; l: number | null }
        retransmits = r.r ?? 0
        lossProbes = r.l ?? 0
      }
      const states = [first.oldstate, ...c.rows.map((r) => r.newstate)].join('>')
      const info = insert.run(
        captureId,
        c.skaddr,
        c.side,
        addr.laddr,
        addr.lport,
        addr.raddr,
        addr.rport,
        est?.ms ?? null,
        ns(first.ts),
        ns(est?.ts),
        ns(closedTs),
        states,
        c.rows.length,
        c.side !== 'unknown' && c.closed ? 1 : 0,
        lifeRow?.line_id ?? null,
        lifeRow?.ms ?? null,
        lifeRow?.tx_kb ?? null,
        lifeRow?.rx_kb ?? null,
        retransmits,
        lossProbes,
      )
      const id = Number(info.lastInsertRowid)
      for (const r of c.rows) if (r.pid !== null) insertPid.run(id, captureId, r.pid, r.comm, 'tcpstates', ns(r.ts))
      if (lifeRow?.pid != null) insertPid.run(id, captureId, lifeRow.pid, lifeRow.comm, 'tcplife', ns(lifeRow.ts))
    }
  })
  write()
  return done.length
}
