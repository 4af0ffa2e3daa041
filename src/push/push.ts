/**
 * `tracedb push`: ships captures from the edge (this host's SQLite store)
 * to the centre (a shared PostgreSQL), incrementally, idempotently and
 * resumably.
 *
 * ### Identity
 * The centre's `capture` row is found by the capture's `uid` (a UUID made
 * when the capture was created here) and has the centre's own id. Every
 * other row keeps the ids the edge gave it, with the centre's capture_id:
 * keys are (capture_id, id), so parent_id, process_id, connection_id,
 * source_id and line_id hold within a capture on the centre as here, and
 * two hosts' captures (both named `logs`, with the same PIDs and ids) never
 * meet.
 *
 * ### What is shipped, and when
 * The centre keeps, per capture, `push_state`: `lines_through` (every line
 * of the capture with id ≤ it, and its record, is there) and `log_seq` (every
 * change the edge logged in `push_log` up to it is applied; NULL before the
 * derived tables were first shipped). A push ships only lines up to the
 * edge's derive watermark (derive_state.derived_through): the rows the
 * derived tables already reflect, so the centre shows a derived state the
 * edge had.
 * - New lines and records: those with line id in (lines_through, watermark].
 *   Line ids only grow on the edge, so this is what the centre lacks.
 * - Rows changed in place: derivation relinks old records (process_id),
 *   continuation lines grow an old record's arguments, instances are
 *   re-parented, merged or replaced, connections re-matched (see
 *   src/derive/index.ts). Rather than re-deriving what a batch may have
 *   touched (which would repeat the derivation's rules here, and drift from
 *   them), SQLite triggers log such changes (migrations/0044_push_log.sql):
 *   the id (and PID) of a process written or deleted, the id of a
 *   connection, the line of a record changed in place. A record's
 *   process_id is not logged row by row (derivation sets it for millions of
 *   rows in a first pass; with a trigger per record, a first ingest of 100k
 *   processes took 6–9% more CPU): derivation relinks only the records of PIDs whose instances
 *   changed, so the push sends the records of the logged PIDs again. A push
 *   deletes those keys on the centre and copies the edge's current rows of
 *   them (a deleted one is simply not there any more), then advances log_seq. The first push of a capture
 *   copies its derived tables whole. A dropped partial line (the watermark
 *   went back) resends the lines above it; a rebuild resends the capture.
 * - `source` rows (a few per capture; their offsets move) and the capture
 *   row are replaced on every push.
 *
 * ### Atomic units
 * Each unit runs in one PostgreSQL transaction that also updates
 * push_state, and reads one SQLite snapshot (a read transaction): killed at
 * any point, the centre keeps the units that committed and the next push
 * goes on from there, nothing duplicated (keys are deleted before they are
 * copied again) or lost. A large capture goes in several units of at most
 * `unitLines` line ids each, then a last unit that applies the change log
 * and the derived tables; until that one commits, the centre has the lines
 * and records of the first units without their process instances.
 *
 * Rows go through `COPY … FROM STDIN` (src/push/copy.ts), not INSERTs.
 */
import type BetterSqlite3 from 'better-sqlite3'
import type pg from 'pg'
import { InputError } from '../errors.js'
import { copyRows, type CopySpec } from './copy.js'

/** Line ids per unit of a first push: a kill loses at most one unit's work. */
export const UNIT_LINES = 500_000

export interface PushOptions {
  /** line ids per unit (default {@link UNIT_LINES}) */
  readonly unitLines?: number
  /** called after each unit commits */
  readonly onUnit?: (unit: UnitReport) => void
  /** test hook: called inside each unit's transaction, before it commits */
  readonly beforeCommit?: (unit: UnitReport) => Promise<void> | void
}

export interface UnitReport {
  readonly capture: string
  /** `lines`: a unit of new lines and records; `final`: the last unit, with changes and derived tables */
  readonly kind: 'lines' | 'final'
  readonly linesThrough: number
  readonly rows: number
  readonly bytes: number
}

export interface PushReport {
  /** the capture's name on this host */
  readonly capture: string
  readonly uid: string
  /** its id on the centre */
  readonly centreId: number
  readonly units: number
  /** rows copied, per table */
  readonly rows: Readonly<Record<string, number>>
  readonly bytes: number
  /** line id up to which the centre now has the capture */
  readonly linesThrough: number
  readonly seconds: number
}

/** Tables keyed by line id: log_line (id) and every `<tool>_event` (line_id). */
interface Tables {
  readonly events: readonly string[]
  /** columns of each shipped table on the edge, in order */
  readonly columns: ReadonlyMap<string, readonly string[]>
}

/** The derived tables, copied whole on a first push and by changed key after. */
const DERIVED: readonly { table: string; key: string }[] = [
  { table: 'process', key: 'id' },
  { table: 'tcp_connection', key: 'id' },
  { table: 'tcp_connection_pid', key: 'connection_id' },
]

interface EdgeCapture {
  id: number
  name: string
  uid: string | null
  host: string | null
  created_at: string
  updated_at: string
  clock_date: string | null
  clock_tz: string | null
  meta: string | null
}

/** The edge's tables to ship and their columns, checked against the centre's. */
async function tablesOf(edge: BetterSqlite3.Database, client: pg.ClientBase): Promise<Tables> {
  const events = edge
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_event' ESCAPE '\\' ORDER BY name")
    .pluck()
    .all() as string[]
  const names = ['source', 'log_line', ...events, ...DERIVED.map((d) => d.table)]
  const centre = new Map<string, Set<string>>()
  const res = await client.query<{ table_name: string; column_name: string }>(
    'SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ANY($1)',
    [names],
  )
  for (const r of res.rows) {
    let set = centre.get(r.table_name)
    if (!set) centre.set(r.table_name, (set = new Set()))
    set.add(r.column_name)
  }
  const columns = new Map<string, readonly string[]>()
  for (const t of names) {
    const cols = (edge.prepare(`PRAGMA table_info("${t}")`).all() as { name: string }[]).map((c) => c.name)
    const have = centre.get(t)
    const missing = have ? cols.filter((c) => !have.has(c)) : cols
    if (missing.length > 0) {
      throw new InputError(
        have
          ? `the centre's table ${t} lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} that this host's store has`
          : `the centre has no table ${t}, which this host's store has`,
        { hint: 'the centre was set up by an older tracedb: upgrade tracedb where it was created, or push with the same version' },
      )
    }
    columns.set(t, cols)
  }
  return { events, columns }
}

/** The centre's capture id for `c` (created or updated from the edge's row). */
async function upsertCapture(client: pg.ClientBase, c: EdgeCapture): Promise<number> {
  const res = await client.query<{ id: string }>(
    `INSERT INTO capture (uid, host, name, created_at, updated_at, clock_date, clock_tz, meta, edge_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (uid) DO UPDATE SET host = excluded.host, name = excluded.name, updated_at = excluded.updated_at,
       clock_date = excluded.clock_date, clock_tz = excluded.clock_tz, meta = excluded.meta, edge_id = excluded.edge_id
     RETURNING id`,
    [c.uid, c.host, c.name, c.created_at, c.updated_at, c.clock_date, c.clock_tz, c.meta?.replace(/\0/g, '\uFFFD') ?? null, c.id],
  )
  return Number(res.rows[0]?.id)
}

interface State {
  linesThrough: number
  logSeq: number
  derived: boolean
}

/**
 * The centre's push_state of the capture, locked for this unit. A new one
 * starts at the edge's current change-log sequence: what this unit copies
 * reflects every change logged before it.
 */
async function lockState(client: pg.ClientBase, centreId: number, logSeqNow: number): Promise<State> {
  await client.query(
    'INSERT INTO push_state (capture_id, lines_through, log_seq, derived, pushed_at) VALUES ($1, 0, $2, false, $3) ON CONFLICT (capture_id) DO NOTHING',
    [centreId, logSeqNow, new Date().toISOString()],
  )
  const res = await client.query<{ lines_through: string; log_seq: string; derived: boolean }>(
    'SELECT lines_through, log_seq, derived FROM push_state WHERE capture_id = $1 FOR UPDATE',
    [centreId],
  )
  const row = res.rows[0]
  if (!row) throw new Error('push_state row vanished')
  return { linesThrough: Number(row.lines_through), logSeq: Number(row.log_seq), derived: row.derived }
}

/**
 * Pushes one capture of the edge to the centre, in units (see the module
 * comment). `edge` should be a connection of its own (read-only is enough):
 * each unit holds a read transaction on it. The centre must be migrated.
 */
export async function pushCapture(
  edge: BetterSqlite3.Database,
  client: pg.ClientBase,
  edgeCaptureId: number,
  options: PushOptions = {},
): Promise<PushReport> {
  const started = performance.now()
  const unitLines = options.unitLines ?? UNIT_LINES
  const rows: Record<string, number> = {}
  let bytes = 0
  let units = 0
  const tables = await tablesOf(edge, client)
  for (;;) {
    const unit = await pushUnit(edge, client, edgeCaptureId, tables, unitLines, options)
    units++
    for (const [t, n] of Object.entries(unit.rows)) rows[t] = (rows[t] ?? 0) + n
    bytes += unit.report.bytes
    options.onUnit?.(unit.report)
    if (unit.report.kind === 'final') {
      return {
        capture: unit.capture.name,
        uid: unit.capture.uid ?? '',
        centreId: unit.centreId,
        units,
        rows,
        bytes,
        linesThrough: unit.report.linesThrough,
        seconds: (performance.now() - started) / 1000,
      }
    }
  }
}

interface UnitResult {
  readonly capture: EdgeCapture
  readonly centreId: number
  readonly rows: Record<string, number>
  readonly report: UnitReport
}

async function pushUnit(
  edge: BetterSqlite3.Database,
  client: pg.ClientBase,
  edgeCaptureId: number,
  tables: Tables,
  unitLines: number,
  options: PushOptions,
): Promise<UnitResult> {
  const capture = edge.prepare('SELECT * FROM capture WHERE id = ?').get(edgeCaptureId) as EdgeCapture | undefined
  if (!capture) throw new InputError(`capture id ${String(edgeCaptureId)} is not in this store`)
  if (capture.uid === null) throw new InputError(`capture "${capture.name}" has no uid`, { hint: 'run `tracedb migrate` on this store first' })
  let pgOpen = false
  let edgeOpen = false
  try {
    await client.query('BEGIN')
    pgOpen = true
    // the centre's capture row is locked first: two pushes of one capture
    // (watch --push and a push by hand) take turns, and the second reads the
    // edge after the first committed, never an older snapshot than it
    const centreId = await upsertCapture(client, capture)
    edge.exec('BEGIN')
    edgeOpen = true
    const watermark = (edge.prepare('SELECT derived_through FROM derive_state WHERE capture_id = ?').pluck().get(edgeCaptureId) as number | undefined) ?? 0
    const logSeq = edge.prepare('SELECT coalesce(max(seq), 0) FROM push_log WHERE capture_id = ?').pluck().get(edgeCaptureId) as number
    const state = await lockState(client, centreId, logSeq)
    const rows: Record<string, number> = {}
    let bytes = 0
    const copy = async (spec: CopySpec): Promise<void> => {
      const r = await copyRows(edge, client, spec, centreId)
      rows[spec.table] = (rows[spec.table] ?? 0) + r.rows
      bytes += r.bytes
    }
    const cols = (t: string): readonly string[] => tables.columns.get(t) ?? []
    const lineKeyed = ['log_line', ...tables.events]
    const keyOf = (t: string): string => (t === 'log_line' ? 'id' : 'line_id')
    /** copies the lines and records of the capture with ids in (from, to] */
    const copyLines = async (from: number, to: number): Promise<void> => {
      for (const t of lineKeyed) {
        await copy({ table: t, columns: cols(t), where: `${keyOf(t)} > ? AND ${keyOf(t)} <= ? AND capture_id = ?`, params: [from, to, edgeCaptureId] })
      }
    }
    const deleteAbove = async (key: number): Promise<void> => {
      for (const t of lineKeyed) await client.query(`DELETE FROM ${t} WHERE capture_id = $1 AND ${keyOf(t)} > $2`, [centreId, key])
    }

    let from = state.linesThrough
    // line ids are shared by the captures of a store: skip the ids of others
    const next = nextLineId(edge, edgeCaptureId, from)
    if (next !== undefined && next - 1 > from && next - 1 + unitLines < watermark) from = next - 1
    if (from + unitLines < watermark) {
      // a unit of new lines and their records; changes to rows already
      // shipped wait for the final unit, which applies every change logged
      // since log_seq (older than this unit's snapshot or not)
      const to = from + unitLines
      await copyLines(from, to)
      await client.query('UPDATE push_state SET lines_through = $2, pushed_at = $3 WHERE capture_id = $1', [centreId, to, new Date().toISOString()])
      const report: UnitReport = { capture: capture.name, kind: 'lines', linesThrough: to, rows: sum(rows), bytes }
      await options.beforeCommit?.(report)
      await client.query('COMMIT')
      pgOpen = false
      return { capture, centreId, rows, report }
    }

    // the final unit: changes logged since log_seq, the rest of the lines, derived tables, sources
    let resend = false
    const changes = new Map<string, Set<number>>()
    const log = edge
      .prepare('SELECT tbl, key FROM push_log WHERE capture_id = ? AND seq > ? AND seq <= ?')
      .raw()
      .all(edgeCaptureId, state.logSeq, logSeq) as [string, number][]
    let back = Number.POSITIVE_INFINITY
    for (const [tbl, key] of log) {
      if (tbl === '*') resend = true
      else if (tbl === 'lines') back = Math.min(back, key)
      else {
        let set = changes.get(tbl)
        if (!set) changes.set(tbl, (set = new Set()))
        set.add(key)
      }
    }
    if (resend) {
      // derived again from scratch on the edge (rebuild): the capture is sent again whole
      for (const t of [...lineKeyed, ...DERIVED.map((d) => d.table)]) await client.query(`DELETE FROM ${t} WHERE capture_id = $1`, [centreId])
      from = 0
    } else if (back < from) {
      // the watermark went back (a partial last line dropped): the lines above it are sent again
      await deleteAbove(back)
      from = back
    }
    const full = resend || !state.derived
    // lines the centre has beyond the edge's watermark (a watermark that went
    // back since a push) are sent again when the edge derives them
    if (from > watermark) {
      await deleteAbove(watermark)
      from = watermark
    }
    // records changed among those the centre already has: changed in place
    // (logged by line), or of a PID whose instances changed (their
    // process_id may have been linked anew: derivation relinks exactly the
    // records of such PIDs, by pid, or by tid where pid is NULL; see
    // src/derive/link.ts)
    if (!resend) {
      const pids = JSON.stringify([...(changes.get('pid') ?? [])])
      for (const t of tables.events) {
        const keys = new Set([...(changes.get(t) ?? [])].filter((k) => k <= from))
        if (pids !== '[]') {
          const c = new Set(cols(t))
          if (c.has('pid')) {
            const ofPids = edge
              .prepare(
                `SELECT line_id FROM "${t}" WHERE capture_id = ? AND pid IN (SELECT value FROM json_each(?)) AND line_id <= ?` +
                  (c.has('tid') ? ` UNION ALL SELECT line_id FROM "${t}" WHERE capture_id = ? AND pid IS NULL AND tid IN (SELECT value FROM json_each(?)) AND line_id <= ?` : ''),
              )
              .pluck()
              .all(...[edgeCaptureId, pids, from, ...(c.has('tid') ? [edgeCaptureId, pids, from] : [])]) as number[]
            for (const k of ofPids) keys.add(k)
          }
        }
        if (keys.size === 0) continue
        const list = [...keys]
        await client.query(`DELETE FROM ${t} WHERE capture_id = $1 AND line_id = ANY($2::bigint[])`, [centreId, list])
        await copy({ table: t, columns: cols(t), where: 'line_id IN (SELECT value FROM json_each(?)) AND capture_id = ?', params: [JSON.stringify(list), edgeCaptureId] })
      }
    }
    await copyLines(from, watermark)
    for (const d of DERIVED) {
      const t = d.table
      if (full) {
        await client.query(`DELETE FROM ${t} WHERE capture_id = $1`, [centreId])
        await copy({ table: t, columns: cols(t), where: 'capture_id = ?', params: [edgeCaptureId] })
        continue
      }
      const keys = [...(changes.get(t) ?? [])]
      if (keys.length === 0) continue
      await client.query(`DELETE FROM ${t} WHERE capture_id = $1 AND ${d.key} = ANY($2::bigint[])`, [centreId, keys])
      await copy({ table: t, columns: cols(t), where: `${d.key} IN (SELECT value FROM json_each(?)) AND capture_id = ?`, params: [JSON.stringify(keys), edgeCaptureId] })
    }
    await client.query('DELETE FROM source WHERE capture_id = $1', [centreId])
    await copy({ table: 'source', columns: cols('source'), where: 'capture_id = ?', params: [edgeCaptureId] })
    await client.query('UPDATE push_state SET lines_through = $2, log_seq = $3, derived = true, pushed_at = $4 WHERE capture_id = $1', [
      centreId,
      watermark,
      logSeq,
      new Date().toISOString(),
    ])
    const report: UnitReport = { capture: capture.name, kind: 'final', linesThrough: watermark, rows: sum(rows), bytes }
    await options.beforeCommit?.(report)
    await client.query('COMMIT')
    pgOpen = false
    return { capture, centreId, rows, report }
  } catch (error) {
    if (pgOpen) await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    if (edgeOpen) edge.exec('COMMIT')
  }
}

/** The capture's first line id above `after` (through the (capture_id, kind) index), if any. */
function nextLineId(edge: BetterSqlite3.Database, captureId: number, after: number): number | undefined {
  const ids = (['header', 'record', 'continuation', 'message', 'bad'] as const)
    .map((kind) => edge.prepare('SELECT id FROM log_line WHERE capture_id = ? AND kind = ? AND id > ? ORDER BY id LIMIT 1').pluck().get(captureId, kind, after) as number | undefined)
    .filter((id): id is number => id !== undefined)
  return ids.length === 0 ? undefined : Math.min(...ids)
}

function sum(rows: Record<string, number>): number {
  return Object.values(rows).reduce((a, b) => a + b, 0)
}

/**
 * What a first push of a capture copies, as one spec per table, the whole
 * capture each (the bench writes these to files for its `psql \copy` floor).
 */
export function wholeCaptureSpecs(edge: BetterSqlite3.Database, edgeCaptureId: number): CopySpec[] {
  const events = edge
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_event' ESCAPE '\\' ORDER BY name")
    .pluck()
    .all() as string[]
  return ['source', 'log_line', ...events, ...DERIVED.map((d) => d.table)].map((t) => {
    const cols = (edge.prepare(`PRAGMA table_info("${t}")`).all() as { name: string }[]).map((c) => c.name)
    return { table: t, columns: cols, where: 'capture_id = ?', params: [edgeCaptureId] }
  })
}
