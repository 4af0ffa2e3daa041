/**
 * The `fleet` section of `npm run bench`: tracedb with a PostgreSQL centre.
 * A throwaway cluster (src/store/postgres/cluster.ts) is started for the
 * section; the functions here are separate so that other figures (queries
 * on the centre, size on disk) can use the same cluster and databases.
 *
 * - push: `tracedb push` of the ingested capture into an empty centre, the
 *   whole command (start-up, migration, reading SQLite, COPY), as rows/s and
 *   MB/s of COPY text;
 * - floor: the same rows, exported first to files in the same COPY text,
 *   loaded by `psql` with one `\copy` per table into an empty database with
 *   the same schema (indexes included), in the same run.
 */
import { spawnSync } from 'node:child_process'
import { createWriteStream, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { copyChunks } from '../push/copy.js'
import { wholeCaptureSpecs } from '../push/push.js'
import { clusterUnavailable, startCluster, type Cluster } from '../store/postgres/cluster.js'
import { migratePostgres } from '../store/postgres/migrate.js'
import { openStore } from '../store/open.js'

export type AddRow = (section: string, figure: string, value: string, note?: string) => void

/** Starts the section's cluster, or says why it cannot (the section is then skipped with that reason). */
export async function fleetCluster(add: AddRow, section: string): Promise<Cluster | undefined> {
  const reason = clusterUnavailable()
  if (reason) {
    add(section, 'skipped', 'n/a', reason)
    return undefined
  }
  return startCluster()
}

export interface PushFigures {
  /** the centre's database with the pushed capture */
  readonly url: string
  readonly rows: number
  readonly bytes: number
  readonly ms: number
}

/**
 * `tracedb push` of the store `db` into a new database `name` of the
 * cluster, timed as a child process (`measure` runs the CLI and returns its
 * elapsed ms and stdout).
 */
export function benchPush(
  cluster: Cluster,
  db: string,
  name: string,
  measure: (args: string[]) => { ms: number; stdout: string },
): Promise<PushFigures> {
  return cluster.createDatabase(name).then((url) => {
    const r = measure(['push', '--to', url, '--db', db, '--json'])
    const reports = JSON.parse(r.stdout) as { rows: Record<string, number>; bytes: number }[]
    const rows = reports.reduce((n, x) => n + Object.values(x.rows).reduce((a, b) => a + b, 0), 0)
    const bytes = reports.reduce((n, x) => n + x.bytes, 0)
    return { url, rows, bytes, ms: r.ms }
  })
}

/**
 * The floor: the capture's rows exported to COPY text files (not timed),
 * then loaded by `psql` (timed, the whole psql process) into a new database
 * `name` with the same schema.
 */
export async function benchCopyFloor(cluster: Cluster, db: string, name: string, dir: string): Promise<PushFigures> {
  const url = await cluster.createDatabase(name)
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const store = openStore(db, { readonly: true })
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const commands: string[] = []
  let rows = 0
  let bytes = 0
  try {
    await migratePostgres(client)
    const captures = store.sqlite.prepare('SELECT * FROM capture ORDER BY id').all() as Record<string, unknown>[]
    for (const c of captures) {
      const res = await client.query<{ id: string }>(
        `INSERT INTO capture (uid, host, name, created_at, updated_at, clock_date, clock_tz, meta, edge_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
        [c.uid, c.host, c.name, c.created_at, c.updated_at, c.clock_date, c.clock_tz, c.meta, c.id],
      )
      const centreId = Number(res.rows[0]?.id)
      for (const spec of wholeCaptureSpecs(store.sqlite, c.id as number)) {
        const file = join(dir, `${String(c.id)}-${spec.table}.copy`)
        const counts = { rows: 0, bytes: 0 }
        await pipeline(Readable.from(copyChunks(store.sqlite, spec, centreId, counts)), createWriteStream(file))
        rows += counts.rows
        bytes += counts.bytes
        commands.push(`\\copy ${spec.table} (${spec.columns.join(', ')}) FROM '${file}'`)
      }
    }
  } finally {
    store.close()
    await client.end()
  }
  const t0 = process.hrtime.bigint()
  const r = spawnSync(join(cluster.bin, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, ...commands.flatMap((c) => ['-c', c])], {
    encoding: 'utf8',
  })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`psql \\copy failed: ${r.stderr}`)
  rmSync(dir, { recursive: true, force: true })
  return { url, rows, bytes, ms }
}

/** Adds the push and floor figures of a capture of `n` processes. */
export function addPushFigures(add: AddRow, section: string, push: PushFigures, floor: PushFigures): void {
  const rate = (f: PushFigures): string =>
    `${Math.round(f.rows / (f.ms / 1000)).toLocaleString('en')} rows/s, ${(f.bytes / 1e6 / (f.ms / 1000)).toFixed(1)} MB/s`
  add(section, 'psql \\copy floor', `${(floor.ms / 1000).toFixed(2)} s`, `${rate(floor)}; ${floor.rows.toLocaleString('en')} rows, ${(floor.bytes / 1e6).toFixed(0)} MB of COPY text, one \\copy per table`)
  add(section, 'tracedb push', `${(push.ms / 1000).toFixed(2)} s`, `${rate(push)}; ${push.rows.toLocaleString('en')} rows; whole command into an empty centre`)
  add(section, 'push speed / floor speed', `${(floor.ms / push.ms).toFixed(2)}x`, 'target >= 0.7x')
}
