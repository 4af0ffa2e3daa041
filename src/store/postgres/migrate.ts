/**
 * Migrations of a PostgreSQL centre: `migrations/postgres/NNNN_name.sql`,
 * applied in order, each in one transaction with the row that records it in
 * `_tracedb_migrations` (the same bookkeeping as SQLite's, src/store/migrate.ts).
 * Concurrent pushes from many hosts may meet an empty database: an advisory
 * lock makes one of them migrate and the others wait and find it done.
 */
import type pg from 'pg'
import { join } from 'node:path'
import { DatabaseError } from '../../errors.js'
import { loadMigrations, MIGRATIONS_DIR, type Migration, type MigrationResult } from '../migrate.js'

/** `migrations/postgres/` of the installed package. */
export const PG_MIGRATIONS_DIR = join(MIGRATIONS_DIR, 'postgres')

/** The PostgreSQL migrations shipped with this version, in order. */
export function loadPgMigrations(dir = PG_MIGRATIONS_DIR): Migration[] {
  return loadMigrations(dir)
}

/** Any constant: the key of the advisory lock held while migrating. */
const MIGRATE_LOCK = 0x7472_6364 // "trcd"

/**
 * Applies the pending PostgreSQL migrations. Refuses a database that has
 * migrations this version does not know (written by a newer tracedb).
 */
export async function migratePostgres(client: pg.ClientBase, migrations = loadPgMigrations()): Promise<MigrationResult> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK])
  try {
    await client.query('CREATE TABLE IF NOT EXISTS _tracedb_migrations (name text PRIMARY KEY, applied_at text NOT NULL)')
    const done = new Set((await client.query<{ name: string }>('SELECT name FROM _tracedb_migrations')).rows.map((r) => r.name))
    checkKnown(done, migrations)
    const applied: string[] = []
    for (const m of migrations) {
      if (done.has(m.name)) continue
      await client.query('BEGIN')
      try {
        await client.query(m.sql)
        await client.query('INSERT INTO _tracedb_migrations (name, applied_at) VALUES ($1, $2)', [m.name, new Date().toISOString()])
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK')
        throw new DatabaseError(`PostgreSQL migration ${m.name} failed: ${(error as Error).message}`, {
          hint: 'check that the user may create tables in this database',
          cause: error,
        })
      }
      applied.push(m.name)
    }
    return { applied }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK])
  }
}

/** The migrations still to apply to a PostgreSQL database (for readers, which never migrate). */
export async function pendingPostgres(client: pg.ClientBase, migrations = loadPgMigrations()): Promise<string[]> {
  const exists = await client.query("SELECT 1 FROM pg_catalog.pg_tables WHERE tablename = '_tracedb_migrations' AND schemaname = current_schema()")
  if (exists.rowCount === 0) return migrations.map((m) => m.name)
  const done = new Set((await client.query<{ name: string }>('SELECT name FROM _tracedb_migrations')).rows.map((r) => r.name))
  checkKnown(done, migrations)
  return migrations.filter((m) => !done.has(m.name)).map((m) => m.name)
}

function checkKnown(done: ReadonlySet<string>, migrations: readonly Migration[]): void {
  const known = new Set(migrations.map((m) => m.name))
  const unknown = [...done].filter((n) => !known.has(n)).sort()
  if (unknown.length > 0) {
    throw new DatabaseError(`the PostgreSQL database was written by a newer tracedb: unknown migration "${unknown.at(-1) ?? ''}"`, {
      hint: 'upgrade tracedb on this host',
    })
  }
}
