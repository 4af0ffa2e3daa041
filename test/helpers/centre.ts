/**
 * Comparing a capture on the edge (SQLite) with the same capture on the
 * centre (PostgreSQL), table by table, every column but capture_id.
 */
import type BetterSqlite3 from 'better-sqlite3'
import pg from 'pg'

/** The tables a push ships, with the key that orders their rows. */
export function shippedTables(edge: BetterSqlite3.Database): { table: string; key: string }[] {
  const events = edge
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_event' ESCAPE '\\' ORDER BY name")
    .pluck()
    .all() as string[]
  return [
    { table: 'source', key: 'id' },
    { table: 'log_line', key: 'id' },
    ...events.map((t) => ({ table: t, key: 'line_id' })),
    { table: 'process', key: 'id' },
    { table: 'tcp_connection', key: 'id' },
    { table: 'tcp_connection_pid', key: 'connection_id, pid, evidence' },
  ]
}

function norm(v: unknown): string | null {
  if (v === null || v === undefined) return null
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') return String(v)
  if (Buffer.isBuffer(v)) return `x${v.toString('hex')}`
  if (typeof v === 'string') return v.replace(/\0/g, '\uFFFD')
  throw new Error(`unexpected value ${typeof v}`)
}

function columnsOf(edge: BetterSqlite3.Database, table: string): string[] {
  return (edge.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]).map((c) => c.name).filter((c) => c !== 'capture_id')
}

/** Every row of one capture's table on the edge, normalised, in key order. */
export function edgeRows(edge: BetterSqlite3.Database, table: string, key: string, captureId: number): (string | null)[][] {
  const cols = columnsOf(edge, table)
  return (
    edge
      .prepare(`SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM "${table}" WHERE capture_id = ? ORDER BY ${key}`)
      .raw()
      .safeIntegers(true)
      .all(captureId) as unknown[][]
  ).map((r) => r.map(norm))
}

/** The same on the centre. */
export async function centreRows(
  client: pg.ClientBase,
  edge: BetterSqlite3.Database,
  table: string,
  key: string,
  centreId: number,
): Promise<(string | null)[][]> {
  const cols = columnsOf(edge, table)
  const res = await client.query({
    text: `SELECT ${cols.map((c) => `"${c}"`).join(', ')} FROM "${table}" WHERE capture_id = $1 ORDER BY ${key}`,
    values: [centreId],
    rowMode: 'array',
  })
  return (res.rows as unknown[][]).map((r) => r.map(norm))
}

/** The centre's id of the capture with this uid. */
export async function centreIdOf(client: pg.ClientBase, uid: string): Promise<number> {
  const res = await client.query<{ id: string }>('SELECT id FROM capture WHERE uid = $1', [uid])
  const id = res.rows[0]?.id
  if (id === undefined) throw new Error(`capture ${uid} is not on the centre`)
  return Number(id)
}

/** Per table: [edge rows, centre rows] of one capture, for `expect(...).toEqual` table by table. */
export async function compareCapture(
  client: pg.ClientBase,
  edge: BetterSqlite3.Database,
  edgeCaptureId: number,
): Promise<{ table: string; edge: number; mismatches: number; first?: unknown }[]> {
  const uid = edge.prepare('SELECT uid FROM capture WHERE id = ?').pluck().get(edgeCaptureId) as string
  const centreId = await centreIdOf(client, uid)
  const out: { table: string; edge: number; mismatches: number; first?: unknown }[] = []
  for (const { table, key } of shippedTables(edge)) {
    const a = edgeRows(edge, table, key, edgeCaptureId)
    const b = await centreRows(client, edge, table, key, centreId)
    let mismatches = Math.abs(a.length - b.length)
    let first: unknown
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) {
        mismatches++
        first ??= { edge: a[i], centre: b[i] }
      }
    }
    out.push({ table, edge: a.length, mismatches, ...(first !== undefined ? { first } : {}) })
  }
  return out
}

/** Connects to a centre URL (the caller ends it). */
export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  return client
}
