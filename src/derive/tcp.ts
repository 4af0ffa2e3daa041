import { allocateIds, chunks, IN_LIST, stmt, type DeriveContext } from './context.js'
import { linkRows } from './link.js'

/**
 * Derives TCP connections from tcpstates transitions.
 *
 * A chain is the transitions of one socket address (SKADDR) from its open —
 * `LISTEN -> SYN_RECV` (server side) or `CLOSE -> SYN_SENT` (client side) —
 * to `-> CLOSE`; the kernel reuses socket addresses, so an address can carry
 * several connections in turn. MS is the time spent in the OLD state, so the
 * handshake latency is the MS of the `-> ESTABLISHED` transition. An
 * address's transitions are taken in time order when all have a time (so
 * several tcpstates files of one capture interleave correctly), else in
 * file order.
 *
 * Each connection is then matched to the tcplife row of the same flow
 * (addresses and ports) closest to its close, connections of one flow in
 * start order, each row used once; and counts its tcpretrans rows.
 *
 * Incremental: the chains of the addresses that got new transitions are
 * built again (a connection keeps its id: its address and first transition
 * identify it), and the matches of the flows that got a new connection, a
 * new tcplife or a new tcpretrans row are made again.
 */

interface StateRow {
  line_id: number
  source_id: number
  ts: number | null // µs
  skaddr: string
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

interface Chain {
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
  tx_kb: number | null
  rx_kb: number | null
  ms: number | null
}

const TOLERANCE = 2_000_000 // µs: second-precision print-time clocks

const ns = (us: number | null | undefined): bigint | null => (us === null || us === undefined ? null : BigInt(us) * 1000n)

/** A flow: local and remote address and port. */
type Flow = readonly [string | null, number | null, string | null, number | null]
const flowKey = (f: Flow): string => JSON.stringify(f)

export interface TcpChanges {
  /** connections written or deleted */
  readonly connections: number
}

/** The connections of the addresses and flows that rows newer than `since` (a line id) touch. */
export function deriveTcpSince(ctx: DeriveContext, since: number): TcpChanges {
  const { sqlite, captureId } = ctx
  const flows = new Map<string, Flow>()
  const addFlow = (f: Flow): void => void flows.set(flowKey(f), f)
  const addresses = stmt(sqlite, 'SELECT DISTINCT skaddr FROM tcpstates_event WHERE line_id > ? AND +capture_id = ? AND skaddr IS NOT NULL')
    .pluck()
    .all(since, captureId) as string[]
  let written = 0
  for (const chunk of chunks(addresses)) written += rechain(ctx, chunk, addFlow)
  const freshFlows = (table: string, extra: string): void => {
    const rows = stmt(sqlite, `SELECT DISTINCT laddr, lport, raddr, rport FROM ${table} WHERE line_id > ? AND +capture_id = ? ${extra}`)
      .raw()
      .all(since, captureId) as [string | null, number | null, string | null, number | null][]
    for (const f of rows) addFlow(f)
  }
  freshFlows('tcplife_event', '')
  freshFlows('tcpretrans_event', "AND mode = 'event'")
  const retrans = hasRetrans(ctx)
  if (retrans) {
    // tcpretrans was captured (maybe just now): connections not counted yet are
    const uncounted = stmt(sqlite, 'SELECT DISTINCT laddr, lport, raddr, rport FROM tcp_connection WHERE capture_id = ? AND retransmits IS NULL')
      .raw()
      .all(captureId) as [string | null, number | null, string | null, number | null][]
    for (const f of uncounted) addFlow(f)
  }
  for (const flow of flows.values()) written += rematch(ctx, flow, retrans)
  return { connections: written }
}

function hasRetrans(ctx: DeriveContext): boolean {
  return stmt(ctx.sqlite, "SELECT 1 FROM source WHERE capture_id = ? AND format = 'tcpretrans' LIMIT 1").get(ctx.captureId) !== undefined
}

/** The transitions of one address in order: by time when every one has a time, else in file order. */
function ordered(ctx: DeriveContext, rows: StateRow[]): StateRow[] {
  const rank = (r: StateRow): number => ctx.rank.get(r.source_id) ?? 0
  const timed = rows.every((r) => r.ts !== null)
  return rows.sort((a, b) => (timed ? a.ts! - b.ts! : 0) || rank(a) - rank(b) || a.line_id - b.line_id)
}

/** The chains of one address's transitions. */
function chainsOf(skaddr: string, rows: readonly StateRow[]): Chain[] {
  const done: Chain[] = []
  let open: Chain | undefined
  for (const r of rows) {
    const from = r.oldstate ?? ''
    const to = r.newstate ?? ''
    if (to === 'LISTEN' || (from === 'LISTEN' && to === 'CLOSE')) continue // a listening socket, not a connection
    const starts = (from === 'LISTEN' && to === 'SYN_RECV') || (from === 'CLOSE' && to === 'SYN_SENT')
    if (starts || !open) {
      if (open) done.push(open) // a new open on a reused address ends the previous chain
      open = { skaddr, side: starts ? (to === 'SYN_RECV' ? 'server' : 'client') : 'unknown', rows: [], closed: false }
    }
    open.rows.push(r)
    if (to === 'CLOSE') {
      open.closed = true
      done.push(open)
      open = undefined
    }
  }
  if (open) done.push(open)
  return done
}

/** The row whose addresses name the connection: ports are known once connected (a client's first row shows LPORT 0). */
function addressRow(c: Chain): StateRow {
  return (
    established(c) ?? c.rows.find((r) => (r.lport ?? 0) !== 0 && (r.rport ?? 0) !== 0) ?? c.rows[0]!
  )
}

function established(c: Chain): StateRow | undefined {
  return c.rows.find((r) => r.newstate === 'ESTABLISHED' && (r.oldstate === 'SYN_RECV' || r.oldstate === 'SYN_SENT'))
}

/** Builds the chains of `addresses` again and writes them; the flows they touch are passed to `addFlow`. */
function rechain(ctx: DeriveContext, addresses: readonly string[], addFlow: (f: Flow) => void): number {
  const { sqlite, captureId } = ctx
  const list = JSON.stringify(addresses)
  const rows = stmt(
    sqlite,
    `SELECT line_id, source_id, ts / 1000 AS ts, skaddr, pid, comm, laddr, lport, raddr, rport, oldstate, newstate, ms
     FROM tcpstates_event WHERE capture_id = ? AND skaddr ${IN_LIST}`,
  )
    .all(captureId, list) as StateRow[]
  const byAddress = new Map<string, StateRow[]>()
  for (const r of rows) {
    const l = byAddress.get(r.skaddr)
    if (l) l.push(r)
    else byAddress.set(r.skaddr, [r])
  }
  const stored = stmt(sqlite, `SELECT id, skaddr, first_line_id, laddr, lport, raddr, rport FROM tcp_connection WHERE capture_id = ? AND skaddr ${IN_LIST}`)
    .raw()
    .all(captureId, list) as [number, string, number | null, string | null, number | null, string | null, number | null][]
  const known = new Map<string, number>()
  const gone = new Set<number>()
  for (const [id, skaddr, first, la, lp, ra, rp] of stored) {
    known.set(`${skaddr}|${String(first)}`, id)
    gone.add(id)
    addFlow([la, lp, ra, rp])
  }
  const chains = addresses.flatMap((a) => chainsOf(a, ordered(ctx, byAddress.get(a) ?? [])))
  const ids = chains.map((c) => known.get(`${c.skaddr}|${String(c.rows[0]!.line_id)}`) ?? NaN)
  let next = allocateIds(sqlite, 'tcp_connection', ids.filter((id) => Number.isNaN(id)).length)
  const upsert = stmt(
    sqlite,
    `INSERT INTO tcp_connection (id, capture_id, skaddr, side, laddr, lport, raddr, rport, handshake_ms, start_ts,
       established_ts, closed_ts, states, transitions, complete, first_line_id, last_ts)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET side = excluded.side, laddr = excluded.laddr, lport = excluded.lport,
       raddr = excluded.raddr, rport = excluded.rport, handshake_ms = excluded.handshake_ms, start_ts = excluded.start_ts,
       established_ts = excluded.established_ts, closed_ts = excluded.closed_ts, states = excluded.states,
       transitions = excluded.transitions, complete = excluded.complete, last_ts = excluded.last_ts`,
  )
  const { drop: dropPids, insert: insertPid } = connectionPidStatements(ctx, 'tcpstates')
  let written = 0
  const placed: number[] = []
  chains.forEach((c, k) => {
    const id = Number.isNaN(ids[k]!) ? next++ : ids[k]!
    placed.push(id)
    gone.delete(id)
    const first = c.rows[0]!
    const last = c.rows.at(-1)!
    const est = established(c)
    const addr = addressRow(c)
    addFlow([addr.laddr, addr.lport, addr.raddr, addr.rport])
    upsert.run(
      id,
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
      ns(c.closed ? last.ts : null),
      [first.oldstate, ...c.rows.map((r) => r.newstate)].join('>'),
      c.rows.length,
      c.side !== 'unknown' && c.closed ? 1 : 0,
      first.line_id,
      ns(last.ts),
    )
    dropPids.run(id)
    for (const r of c.rows) if (r.pid !== null) insertPid.run(id, captureId, r.pid, r.comm, ns(r.ts))
    written++
  })
  if (gone.size > 0) {
    const ids = JSON.stringify([...gone])
    stmt(sqlite, `DELETE FROM tcp_connection_pid WHERE connection_id ${IN_LIST}`).run(ids)
    written += stmt(sqlite, `DELETE FROM tcp_connection WHERE id ${IN_LIST}`).run(ids).changes
  }
  linkConnections(ctx, placed)
  return written
}

/** Removing and adding the PIDs one kind of evidence shows on a connection: `drop(connection)`, `insert(connection, capture, pid, comm, ts)`. */
function connectionPidStatements(ctx: DeriveContext, evidence: 'tcpstates' | 'tcplife') {
  const drop = stmt(ctx.sqlite, 'DELETE FROM tcp_connection_pid WHERE connection_id = ? AND evidence = ?')
  const insert = stmt(
    ctx.sqlite,
    'INSERT OR IGNORE INTO tcp_connection_pid (connection_id, capture_id, pid, comm, evidence, ts) VALUES (?, ?, ?, ?, ?, ?)',
  )
  return {
    drop: { run: (connection: number) => drop.run(connection, evidence) },
    insert: {
      run: (connection: number, capture: number, pid: number, comm: string | null, ts: bigint | null) =>
        insert.run(connection, capture, pid, comm, evidence, ts),
    },
  }
}

/** Links the PIDs seen on `connections` to their instances. */
function linkConnections(ctx: DeriveContext, connections: readonly number[]): void {
  for (const chunk of chunks(connections)) {
    const rows = stmt(ctx.sqlite, `SELECT rowid, pid, ts / 1000, process_id FROM tcp_connection_pid WHERE connection_id ${IN_LIST}`)
      .raw()
      .all(JSON.stringify(chunk)) as [number, number | null, number | null, number | null][]
    linkRows(ctx, rows, 'tcp_connection_pid', 'rowid')
  }
}

/** Matches the connections of one flow to its tcplife rows again, and counts their retransmits. */
function rematch(ctx: DeriveContext, flow: Flow, retrans: boolean): number {
  const { sqlite, captureId } = ctx
  const [laddr, lport, raddr, rport] = flow
  const same = 'capture_id = ? AND laddr IS ? AND lport IS ? AND raddr IS ? AND rport IS ?'
  const connections = stmt(
    sqlite,
    `SELECT id, start_ts / 1000 AS start, closed_ts / 1000 AS closed, last_ts / 1000 AS last, tcplife_line_id, lifetime_ms,
       tx_kb, rx_kb, retransmits, loss_probes
     FROM tcp_connection WHERE ${same} ORDER BY coalesce(start_ts, 0), first_line_id`,
  )
    .all(captureId, laddr, lport, raddr, rport) as {
    id: number
    start: number | null
    closed: number | null
    last: number | null
    tcplife_line_id: number | null
    lifetime_ms: number | null
    tx_kb: number | null
    rx_kb: number | null
    retransmits: number | null
    loss_probes: number | null
  }[]
  if (connections.length === 0) return 0
  const life = stmt(sqlite, `SELECT line_id, ts / 1000 AS ts, pid, comm, tx_kb, rx_kb, ms FROM tcplife_event WHERE ${same} ORDER BY line_id`)
    .all(captureId, laddr, lport, raddr, rport) as LifeRow[]
  const count = stmt(
    sqlite,
    `SELECT sum(CASE WHEN type = 'L' THEN 0 ELSE 1 END) AS r, sum(CASE WHEN type = 'L' THEN 1 ELSE 0 END) AS l
     FROM tcpretrans_event WHERE ${same} AND mode = 'event' AND (ts IS NULL OR (ts >= ? AND ts <= ?))`,
  )
  const update = stmt(
    sqlite,
    `UPDATE tcp_connection SET tcplife_line_id = ?, lifetime_ms = ?, tx_kb = ?, rx_kb = ?, retransmits = ?, loss_probes = ? WHERE id = ?`,
  )
  const { drop: dropPids, insert: insertPid } = connectionPidStatements(ctx, 'tcplife')
  const used = new Set<number>()
  const relinked: number[] = []
  let written = 0
  for (const c of connections) {
    const anchor = c.closed ?? c.last
    let match: LifeRow | undefined
    for (const l of life) {
      if (used.has(l.line_id)) continue
      if (anchor !== null && l.ts !== null && Math.abs(l.ts - anchor) > TOLERANCE) continue
      if (!match || (anchor !== null && l.ts !== null && Math.abs(l.ts - anchor) < Math.abs((match.ts ?? 0) - anchor))) match = l
    }
    if (match) used.add(match.line_id)
    let retransmits: number | null = null
    let lossProbes: number | null = null
    if (retrans) {
      const lo = ns((c.start ?? 0) - TOLERANCE)
      const hi = ns((c.closed ?? c.last ?? 0) + TOLERANCE)
      const r = count.get(captureId, laddr, lport, raddr, rport, lo, hi) as { r: number | null; l: number | null }
      retransmits = r.r ?? 0
      lossProbes = r.l ?? 0
    }
    const want = [match?.line_id ?? null, match?.ms ?? null, match?.tx_kb ?? null, match?.rx_kb ?? null, retransmits, lossProbes]
    const have = [c.tcplife_line_id, c.lifetime_ms, c.tx_kb, c.rx_kb, c.retransmits, c.loss_probes]
    if (want.some((v, k) => v !== have[k])) {
      update.run(...want, c.id)
      written++
    }
    if (match?.line_id !== c.tcplife_line_id || want[0] === null) {
      dropPids.run(c.id)
      if (match?.pid != null) {
        insertPid.run(c.id, captureId, match.pid, match.comm, ns(match.ts))
        relinked.push(c.id)
      }
    }
  }
  linkConnections(ctx, relinked)
  return written
}
