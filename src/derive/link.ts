import type BetterSqlite3 from 'better-sqlite3'

/**
 * Links every other tool's events to process instances: `process_id` of a
 * row is the instance of its PID that was alive at the row's time. A PID is
 * not an identity (PIDs are reused), so the instance is the one of that PID
 * that started last at or before the event (with a second of slack for
 * second-precision clocks); an event before every known start belongs to the
 * first instance (the process was already running). A row without a time
 * is linked only when its PID has a single instance.
 *
 * Rows that print a thread ID and no PID (Python sofdsnoop, opensnoop -t)
 * are linked by TID when an instance has that PID: the main thread of a
 * process, or a single-threaded one, has TID = PID.
 */

/** Slack, in µs, for second-precision print-time clocks. */
const TOLERANCE = 1_000_000

/** Tables linked here: execsnoop and exitsnoop are linked by process derivation itself. */
const SKIP = new Set(['execsnoop_event', 'exitsnoop_event'])

interface Span {
  id: number
  start: number
}

function columns(sqlite: BetterSqlite3.Database, table: string): Set<string> {
  return new Set((sqlite.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]).map((c) => c.name))
}

/** The instances of each PID of a capture, in start order. */
function instancesByPid(sqlite: BetterSqlite3.Database, captureId: number): Map<number, Span[]> {
  const byPid = new Map<number, Span[]>()
  const rows = sqlite
    .prepare(
      `SELECT id, pid, coalesce(start_ts, exec_ts, exit_ts) / 1000 AS start FROM process
       WHERE capture_id = ? ORDER BY pid, start IS NOT NULL, start, id`,
    )
    .raw()
    .iterate(captureId) as IterableIterator<[number, number, number | null]>
  for (const [id, pid, start] of rows) {
    const span = { id, start: start ?? Number.NEGATIVE_INFINITY }
    const list = byPid.get(pid)
    if (list) list.push(span)
    else byPid.set(pid, [span])
  }
  return byPid
}

/** The instance of `pid` alive at `ts` (µs), per the rules above. */
export function instanceAt(spans: readonly Span[] | undefined, ts: number | null): number | null {
  if (!spans || spans.length === 0) return null
  if (ts === null) return spans.length === 1 ? (spans[0]?.id ?? null) : null
  let pick = spans[0]
  for (const s of spans) {
    if (s.start <= ts + TOLERANCE) pick = s
    else break
  }
  return pick?.id ?? null
}

/** Sets `process_id` on every event table of a capture; returns the number of rows changed. */
export function linkEvents(sqlite: BetterSqlite3.Database, captureId: number): number {
  return sqlite.transaction(() => link(sqlite, captureId))()
}

function link(sqlite: BetterSqlite3.Database, captureId: number): number {
  const tables = (
    sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_event' ESCAPE '\\' ORDER BY name").pluck().all() as string[]
  ).filter((t) => !SKIP.has(t))
  const byPid = instancesByPid(sqlite, captureId)
  let changed = 0
  for (const table of tables) {
    const cols = columns(sqlite, table)
    if (!cols.has('process_id') || !cols.has('pid')) continue
    const id = cols.has('tid') ? 'coalesce(pid, tid)' : 'pid'
    const rows = sqlite
      .prepare(`SELECT line_id, ${id} AS pid, ts / 1000 AS ts, process_id FROM "${table}" WHERE capture_id = ?`)
      .raw()
      .all(captureId) as [number, number | null, number | null, number | null][]
    const update = sqlite.prepare(`UPDATE "${table}" SET process_id = ? WHERE line_id = ?`)
    for (const [lineId, pid, ts, current] of rows) {
      const want = pid === null ? null : instanceAt(byPid.get(pid), ts)
      if (want !== current) {
        update.run(want, lineId)
        changed++
      }
    }
  }
  // the PIDs seen on TCP connections (rebuilt with the connections)
  const pids = sqlite
    .prepare('SELECT rowid, pid, ts / 1000 AS ts, process_id FROM tcp_connection_pid WHERE capture_id = ?')
    .raw()
    .all(captureId) as [number, number, number | null, number | null][]
  const updatePid = sqlite.prepare('UPDATE tcp_connection_pid SET process_id = ? WHERE rowid = ?')
  for (const [rowid, pid, ts, current] of pids) {
    const want = instanceAt(byPid.get(pid), ts)
    if (want !== current) {
      updatePid.run(want, rowid)
      changed++
    }
  }
  return changed
}
