/**
 * Connecting to the centre (a PostgreSQL server) and pushing a store's
 * captures to it: what `tracedb push`, `watch --push` and the bench share.
 */
import type BetterSqlite3 from 'better-sqlite3'
import pg from 'pg'
import { DatabaseError, InputError } from '../errors.js'
import { migratePostgres } from '../store/postgres/migrate.js'
import { pushCapture, type PushOptions, type PushReport } from './push.js'
import { redactUrl } from '../store/postgres/url.js'

export { redactUrl }


/**
 * Connects to the centre and brings its schema up to date (a centre is
 * created by the first push). Errors say what failed and what to try.
 */
export async function connectCentre(url: string, options: { migrate?: boolean } = {}): Promise<pg.Client> {
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    throw new InputError(`"${url}" is not a PostgreSQL URL`, { hint: 'give --to postgres://USER@HOST:PORT/DATABASE' })
  }
  // a centre that does not answer (a host that drops packets) fails in seconds, not at the OS's TCP timeout
  const client = new pg.Client({ connectionString: url, application_name: 'tracedb', connectionTimeoutMillis: 15_000 })
  // a server that goes away mid-push is reported by the query that fails; this keeps it from being thrown as well
  client.on('error', () => undefined)
  try {
    await client.connect()
  } catch (cause) {
    await client.end().catch(() => undefined)
    throw new DatabaseError(`cannot connect to ${redactUrl(url)}: ${(cause as Error).message}`, {
      hint: 'check that the PostgreSQL server runs and accepts connections from this host, and the user, password and database in the URL',
      cause,
    })
  }
  if (options.migrate !== false) {
    try {
      await migratePostgres(client)
    } catch (error) {
      await client.end().catch(() => undefined)
      throw error
    }
  }
  return client
}

/** The edge's captures to push: one by name, or all (oldest first). */
export function capturesToPush(edge: BetterSqlite3.Database, name?: string): { id: number; name: string }[] {
  if (name !== undefined) {
    const row = edge.prepare('SELECT id, name FROM capture WHERE name = ?').get(name) as { id: number; name: string } | undefined
    if (!row) throw new InputError(`capture "${name}" not found in this store`, { hint: 'tracedb query captures lists them' })
    return [row]
  }
  return edge.prepare('SELECT id, name FROM capture ORDER BY id').all() as { id: number; name: string }[]
}

/** Pushes captures of the edge (all, or the one named) to a connected centre. */
export async function pushStore(
  edge: BetterSqlite3.Database,
  client: pg.ClientBase,
  options: PushOptions & { capture?: string } = {},
): Promise<PushReport[]> {
  const reports: PushReport[] = []
  for (const c of capturesToPush(edge, options.capture)) reports.push(await pushCapture(edge, client, c.id, options))
  await analyzeReceived(client, reports)
  return reports
}

/**
 * Refreshes the planner's statistics of the tables a push wrote to. COPY
 * leaves them as they were (none, on a new centre) until autovacuum comes
 * by; the recursive queries planned without them join every level of a tree
 * by nested loops (a named query that takes 2 s took over a minute).
 */
async function analyzeReceived(client: pg.ClientBase, reports: readonly PushReport[]): Promise<void> {
  const tables = new Set<string>()
  for (const r of reports) for (const [t, n] of Object.entries(r.rows)) if (n > 0) tables.add(t)
  if (tables.size > 0) await client.query(`ANALYZE ${[...tables].sort().map((t) => pg.escapeIdentifier(t)).join(', ')}`)
}
