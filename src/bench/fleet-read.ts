/**
 * The read side of the `fleet` section of `npm run bench`: named queries on
 * the centre (PostgreSQL) with one host's capture, then with ten hosts'
 * captures in the same database, and the size on disk per million processes
 * on both engines.
 *
 * - descendants of the generated ~100-process ssh session and of the
 *   ~100k-process build root, through the PostgreSQL reader (the same path
 *   as `tracedb query --db postgres://…`), median of 20;
 * - the same after nine more hosts' copies of the capture are added on the
 *   server (INSERT … SELECT with a new capture id and host; every table but
 *   log_line, the raw text no named query of a tree reads): one host's
 *   answer must not depend on how many hosts share the database;
 * - size on disk: the SQLite file, and the PostgreSQL database
 *   (pg_database_size) holding the one pushed capture, per million processes.
 */
import { statSync } from 'node:fs'
import pg from 'pg'
import type { Truth } from '../gen/generate.js'
import { loadCatalog } from '../queries/catalog.js'
import { bindParams } from '../queries/run.js'
import { openReader, type Reader } from '../store/reader.js'
import type { AddRow } from './fleet.js'

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? NaN
}

/** Median ms of 20 runs of descendants PID on one capture of the centre, and its row count. */
async function timeDescendants(reader: Reader, pid: number, host: string | undefined): Promise<{ ms: number; rows: number }> {
  const q = loadCatalog().get('descendants')
  if (!q) throw new Error('the descendants query is missing')
  const capture = await reader.resolveCapture(host === undefined ? {} : { host })
  const params = bindParams(q, [String(pid)])
  const ms: number[] = []
  let rows = 0
  for (let i = 0; i < 20; i++) {
    const t0 = process.hrtime.bigint()
    rows = (await reader.runNamed(q, params, capture.id)).rows.length
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  return { ms: median(ms), rows }
}

/** Adds `copies` more hosts' captures on the server, copied from the one capture there. */
async function addHosts(url: string, copies: number): Promise<{ ms: number; processes: number }> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const t0 = Date.now()
  try {
    const source = (await client.query<{ id: string }>('SELECT id FROM capture ORDER BY id LIMIT 1')).rows[0]?.id
    if (source === undefined) throw new Error('the centre has no capture to copy')
    const tables = (
      await client.query<{ table_name: string }>(
        `SELECT c.table_name FROM information_schema.columns c
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
         WHERE c.table_schema = current_schema() AND c.column_name = 'capture_id'
           AND c.table_name NOT IN ('capture', 'push_state', 'log_line')
         ORDER BY c.table_name`,
      )
    ).rows.map((r) => r.table_name)
    for (let k = 1; k <= copies; k++) {
      const id = (
        await client.query<{ id: string }>(
          `INSERT INTO capture (uid, host, name, created_at, updated_at, clock_date, clock_tz, meta)
           SELECT uid || '-copy-' || $2::text, 'bench-host-' || $2::text, name, created_at, updated_at, clock_date, clock_tz, meta
           FROM capture WHERE id = $1 RETURNING id`,
          [source, String(k)],
        )
      ).rows[0]?.id
      for (const t of tables) {
        const cols = (
          await client.query<{ column_name: string }>(
            'SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position',
            [t],
          )
        ).rows.map((r) => `"${r.column_name}"`)
        const select = cols.map((c) => (c === '"capture_id"' ? '$1::bigint' : c)).join(', ')
        await client.query(`INSERT INTO "${t}" (${cols.join(', ')}) SELECT ${select} FROM "${t}" WHERE capture_id = $2`, [id, source])
      }
    }
    await client.query('ANALYZE')
    const processes = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM process')).rows[0]?.n ?? 0)
    return { ms: Date.now() - t0, processes }
  } finally {
    await client.end()
  }
}

/**
 * The figures, on the database `url` holding the push of the store `db`
 * (one capture of `n` processes). Adds nine hosts to that database.
 */
export async function benchCentreReads(add: AddRow, section: string, url: string, db: string, n: number, truth: Truth): Promise<void> {
  const session = truth.roots.find((r) => r.name === 'ssh-session')
  const build = truth.roots.find((r) => r.name === 'buildd')
  const perMillion = 1e6 / n

  const client = new pg.Client({ connectionString: url })
  await client.connect()
  // statistics as autovacuum would leave them some time after the push
  await client.query('ANALYZE')
  const pgBytes = Number((await client.query<{ b: string }>('SELECT pg_database_size(current_database()) AS b')).rows[0]?.b ?? 0)
  await client.end()
  const sqliteBytes = statSync(db).size
  add(section, 'size on disk per 1M processes, SQLite', `${((sqliteBytes * perMillion) / 1e9).toFixed(2)} GB`, `the tracedb file of the ${(n / 1000).toLocaleString('en')}k-process capture (raw lines, events, derived tables, indexes)`)
  add(section, 'size on disk per 1M processes, PostgreSQL', `${((pgBytes * perMillion) / 1e9).toFixed(2)} GB`, 'pg_database_size of the centre holding the same capture, pushed (same rows, indexes leading with capture_id)')

  const run = async (label: string, host: string | undefined): Promise<void> => {
    const reader = await openReader(url)
    try {
      for (const [root, target] of [
        [session, '< 5 ms'],
        [build, '< 1 s'],
      ] as const) {
        if (!root) continue
        const r = await timeDescendants(reader, root.pid, host)
        const ok = r.rows === root.descendants ? 'matches truth' : `TRUTH SAYS ${String(root.descendants)}`
        add(section, `PostgreSQL descendants ${String(root.pid)}, ${label}`, `${r.ms.toFixed(2)} ms`, `median of 20, ${String(r.rows)} rows, ${ok}; target ${target}`)
      }
    } finally {
      await reader.close()
    }
  }
  await run('1 host', undefined)
  const added = await addHosts(url, 9)
  add(section, '9 more hosts added on the server', `${(added.ms / 1000).toFixed(1)} s`, `copies of the capture (every table but log_line); ${added.processes.toLocaleString('en')} processes in the centre`)
  // the original capture: its host is the generated capture's (or none)
  const reader = await openReader(url)
  const firstHost = (await reader.run('SELECT host FROM capture ORDER BY id LIMIT 1')).rows[0]?.host
  await reader.close()
  await run('10 hosts in the database', typeof firstHost === 'string' ? firstHost : undefined)
}
