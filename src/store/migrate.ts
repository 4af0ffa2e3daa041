import type BetterSqlite3 from 'better-sqlite3'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DatabaseError } from '../errors.js'

/** `migrations/` of the installed package (works from src/ and dist/). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url))

export interface Migration {
  readonly name: string
  readonly sql: string
}

/** The migrations shipped with this version, in order (`NNNN_name.sql`). */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ name: f.replace(/\.sql$/, ''), sql: readFileSync(join(dir, f), 'utf8') }))
}

export interface MigrationResult {
  readonly applied: readonly string[]
}

/**
 * Applies pending migrations in order, each in one transaction with the row
 * that records it. Refuses a database that has migrations this version does
 * not know (written by a newer tracedb).
 */
export function migrate(sqlite: BetterSqlite3.Database, migrations = loadMigrations()): MigrationResult {
  sqlite.exec(
    'CREATE TABLE IF NOT EXISTS _tracedb_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)',
  )
  const done = new Set(
    sqlite
      .prepare('SELECT name FROM _tracedb_migrations')
      .pluck()
      .all() as string[],
  )
  const known = new Set(migrations.map((m) => m.name))
  const unknown = [...done].filter((n) => !known.has(n))
  if (unknown.length > 0) {
    throw new DatabaseError(
      `database was written by a newer tracedb: unknown migration "${unknown.sort().at(-1) ?? ''}"`,
      { hint: 'upgrade tracedb, or use a new database file with --db' },
    )
  }
  const applied: string[] = []
  const record = sqlite.prepare('INSERT INTO _tracedb_migrations (name, applied_at) VALUES (?, ?)')
  for (const m of migrations) {
    if (done.has(m.name)) continue
    sqlite.transaction(() => {
      sqlite.exec(m.sql)
      record.run(m.name, new Date().toISOString())
    })()
    applied.push(m.name)
  }
  return { applied }
}
