/**
 * Derivation: process instances, TCP connections and every event's
 * `process_id`, kept in step with the lines as they are written.
 *
 * ### The invariant
 * For each capture, `derive_state.derived_through` is a line id W: the
 * derived tables are exactly what the rules give for every event row of the
 * capture, as if derived in one pass — and every row with line_id ≤ W is
 * reflected. Each batch of lines is written, derived and has its W advanced
 * in one transaction, so a reader never sees half-derived state.
 *
 * ### What is incremental
 * A pass derives what the rows newer than W (and rows changed in place) can
 * change, and nothing else:
 * - the instances of the PIDs those exec/exit rows name, computed again from
 *   all rows of each such PID (a PID's instances depend on its rows alone);
 * - the parents of those instances, and of the stored instances whose PPID
 *   is a PID whose instances changed (a child linked to a placeholder finds
 *   its real parent; a late exit closes a span that children are matched to);
 * - the chains of the socket addresses with new transitions, and the
 *   tcplife/tcpretrans matches of the flows they or new rows touch;
 * - the `process_id` of event rows newer than W, and of the rows of the PIDs
 *   whose instances changed.
 * Every step reads through an index by PID, PPID, address or flow, so a
 * batch costs O(its lines × log N), not O(N). Deriving a capture from
 * scratch is the same pass with W = 0: one rule, whatever the batches.
 *
 * ### Identity
 * Ids are handed out once (`id_sequence`) and kept: an instance keeps the id
 * its evidence rows were linked to, a connection the id of its address and
 * first transition. Only an instance that stops existing (two found to be
 * one, a placeholder whose real parent arrived) loses its id.
 */
import type BetterSqlite3 from 'better-sqlite3'
import { deriveContext, IN_LIST, stmt } from './context.js'
import { linkEvents } from './link.js'
import { deriveProcessesBulk } from './bulk.js'
import { deriveProcessesOf } from './processes.js'
import { refineForkOnly } from './refine.js'
import { deriveTcpSince } from './tcp.js'

export interface DeriveReport {
  /** process rows written or deleted */
  readonly processes: number
  /** connections written or deleted */
  readonly connections: number
  /** event rows whose process instance changed */
  readonly linked: number
}

/** What a batch changed besides adding rows. */
export interface DeriveInput {
  /** records changed in place (a continuation line appended to their arguments) */
  readonly touchedLines?: readonly number[]
  /** PIDs whose exec/exit rows were removed (a partial last line, dropped to be read again) */
  readonly pids?: readonly number[]
}

/** The capture's watermark W (0: nothing derived yet). */
export function derivedThrough(sqlite: BetterSqlite3.Database, captureId: number): number {
  return (stmt(sqlite, 'SELECT derived_through FROM derive_state WHERE capture_id = ?').pluck().get(captureId) as number | undefined) ?? 0
}

/** Lowers the watermark to `lineId` at most (rows above it will be derived again). */
export function lowerWatermark(sqlite: BetterSqlite3.Database, captureId: number, lineId: number): void {
  stmt(
    sqlite,
    `INSERT INTO derive_state (capture_id, derived_through) VALUES (?, ?)
     ON CONFLICT (capture_id) DO UPDATE SET derived_through = min(derived_through, excluded.derived_through)`,
  )
    .run(captureId, lineId)
}

/**
 * Derives everything rows newer than the capture's watermark imply, and
 * advances it. Runs inside the caller's transaction (the one that wrote the
 * rows), or in its own.
 */
export function deriveNew(sqlite: BetterSqlite3.Database, captureId: number, input: DeriveInput = {}): DeriveReport {
  return sqlite.transaction(() => derivePass(sqlite, captureId, input))()
}

function derivePass(sqlite: BetterSqlite3.Database, captureId: number, input: DeriveInput): DeriveReport {
  const since = derivedThrough(sqlite, captureId)
  // every line of the capture up to the newest line now stored is covered by this pass
  const through = (stmt(sqlite, 'SELECT coalesce(max(id), 0) FROM log_line').pluck().get() as number)
  const ctx = deriveContext(sqlite, captureId)
  // a capture derived for the first time goes in one pass over its rows
  const fresh = since === 0 && stmt(sqlite, 'SELECT 1 FROM process WHERE capture_id = ? LIMIT 1').get(captureId) === undefined
  const processes = fresh
    ? { written: deriveProcessesBulk(ctx), changedPids: new Set<number>(), touched: 'all' as const }
    : deriveProcessesOf(ctx, pidsToDerive(sqlite, captureId, since, input))
  // fork-only processes placed by their neighbours' ms times, before events are linked to the spans
  const changedPids = new Set(processes.changedPids)
  for (const pid of refineForkOnly(ctx, processes.touched)) changedPids.add(pid)
  const tcp = deriveTcpSince(ctx, since)
  const linked = linkEvents(ctx, since, changedPids)
  stmt(
    sqlite,
    `INSERT INTO derive_state (capture_id, derived_through) VALUES (?, ?)
     ON CONFLICT (capture_id) DO UPDATE SET derived_through = max(derived_through, excluded.derived_through)`,
  )
    .run(captureId, through)
  return { processes: processes.written, connections: tcp.connections, linked }
}

/** The PIDs whose instances a pass derives again: of rows newer than `since`, of records changed in place, of removed rows. */
function pidsToDerive(sqlite: BetterSqlite3.Database, captureId: number, since: number, input: DeriveInput): number[] {
  // PIDs in order of their first start, so that a capture derived in one
  // pass gets ids in time order: a subtree's rows then sit close together
  // in the table, and tree queries read few pages
  const pids = new Set(
    stmt(
      sqlite,
      `SELECT pid FROM (
         SELECT pid, ts FROM execsnoop_event WHERE line_id > ? AND +capture_id = ? AND pid IS NOT NULL
         UNION ALL
         SELECT pid, ts - CAST(coalesce(age_s, 0) * 1e9 AS INTEGER) FROM exitsnoop_event WHERE line_id > ? AND +capture_id = ? AND pid IS NOT NULL
       ) GROUP BY pid ORDER BY min(ts) IS NULL, min(ts), pid`,
    )
      .pluck()
      .all(since, captureId, since, captureId) as number[],
  )
  for (const p of input.pids ?? []) pids.add(p)
  if (input.touchedLines && input.touchedLines.length > 0) {
    const touched = stmt(sqlite, `SELECT pid FROM execsnoop_event WHERE line_id ${IN_LIST} AND pid IS NOT NULL`)
      .pluck()
      .all(JSON.stringify(input.touchedLines)) as number[]
    for (const p of touched) pids.add(p)
  }
  return [...pids]
}

/** Derives a capture from scratch (after a rebuild or an upgrade): the same pass with W = 0, in one transaction. */
export function rederive(sqlite: BetterSqlite3.Database, captureId: number): DeriveReport {
  return sqlite.transaction(() => {
    stmt(sqlite, 'DELETE FROM derive_state WHERE capture_id = ?').run(captureId)
    // what the rows no longer show goes: instances of PIDs without rows, chains of addresses without transitions
    const pids = stmt(sqlite, 'SELECT DISTINCT pid FROM process WHERE capture_id = ? AND inferred = 0').pluck().all(captureId) as number[]
    stmt(
      sqlite,
      `DELETE FROM tcp_connection_pid WHERE connection_id IN (SELECT id FROM tcp_connection WHERE capture_id = ?
         AND skaddr NOT IN (SELECT skaddr FROM tcpstates_event WHERE capture_id = ? AND skaddr IS NOT NULL))`,
    )
      .run(captureId, captureId)
    stmt(
      sqlite,
      `DELETE FROM tcp_connection WHERE capture_id = ?
         AND skaddr NOT IN (SELECT skaddr FROM tcpstates_event WHERE capture_id = ? AND skaddr IS NOT NULL)`,
    )
      .run(captureId, captureId)
    return derivePass(sqlite, captureId, { pids })
  })()
}

/** The number of process instances of a capture. */
export function processCount(sqlite: BetterSqlite3.Database, captureId: number): number {
  return stmt(sqlite, 'SELECT count(*) FROM process WHERE capture_id = ?').pluck().get(captureId) as number
}
