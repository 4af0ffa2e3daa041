import BetterSqlite3 from 'better-sqlite3'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { loadMigrations, migrate } from '../../src/store/migrate.js'
import { openStore } from '../../src/store/open.js'
import { runCli } from '../helpers/cli.js'

const ALL = loadMigrations()
const NEWEST = ALL.at(-1)!.name

/** A database as an older tracedb left it: every migration but the newest, in WAL mode, closed cleanly. */
function olderDatabase(name: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tracedb-old-')), name)
  const sqlite = new BetterSqlite3(path)
  sqlite.pragma('journal_mode = WAL')
  migrate(sqlite, ALL.slice(0, -1))
  sqlite.close()
  return path
}

const applied = (path: string): string[] => {
  const sqlite = new BetterSqlite3(path, { readonly: true })
  try {
    return sqlite.prepare('SELECT name FROM _tracedb_migrations ORDER BY name').pluck().all() as string[]
  } finally {
    sqlite.close()
  }
}

describe('readers never write', () => {
  test('every read-only command refuses a database with pending migrations and leaves it byte for byte as it was', async () => {
    const db = olderDatabase('old.db')
    const before = readFileSync(db)
    const out = join(tmpdir(), `tracedb-old-export-${String(process.pid)}.json`)
    const readers: string[][] = [
      ['query', 'descendants', '1'],
      ['query', 'summary', '1'],
      ['query', 'timeline'],
      ['query', 'captures'],
      ['sql', 'select count(*) from process'],
      ['schema'],
      ['schema', 'process'],
      ['export', '1', '--out', out],
      ['compare', '1', '2'],
      ['check'],
    ]
    for (const args of readers) {
      const r = await runCli(...args, '--db', db)
      const what = args.join(' ')
      expect(r.code, what).toBe(2)
      expect(r.stderr, what).toMatch(/older tracedb: 1 migration pending/)
      expect(r.stderr, what).toMatch(/tracedb migrate --db/)
      expect(r.stderr, what).not.toMatch(/\n\s+at /)
      expect(readFileSync(db).equals(before), `${what} changed the file`).toBe(true)
    }
    expect(applied(db)).toEqual(ALL.slice(0, -1).map((m) => m.name))
    expect(existsSync(out)).toBe(false)
  })

  test('openStore read-only: pending migrations are a DatabaseError naming `tracedb migrate`', () => {
    const db = olderDatabase('lib.db')
    expect(() => openStore(db, { readonly: true })).toThrow(`older tracedb: 1 migration pending (${NEWEST})`)
    expect(applied(db)).not.toContain(NEWEST)
  })
})

describe('tracedb migrate', () => {
  test('applies what is pending under the writer lock and says what; then readers work', async () => {
    const db = olderDatabase('m.db')
    const r = await runCli('migrate', '--db', db)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`applied 1 migration to ${db}: ${NEWEST}`)
    expect(applied(db)).toEqual(ALL.map((m) => m.name))
    expect(existsSync(`${db}.lock`)).toBe(true) // it took the writer lock
    const again = await runCli('migrate', '--db', db)
    expect(again.code).toBe(0)
    expect(again.stdout).toContain(`${db} is up to date (${String(ALL.length)} migrations)`)
    const read = await runCli('sql', 'select count(*) as n from process', '--db', db, '--json')
    expect(read.code, read.stderr).toBe(0)
    expect(JSON.parse(read.stdout)).toEqual([{ n: 0 }])
  })

  test('refuses a missing file and a SQLite file that is not a tracedb database, changing neither', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracedb-mig-'))
    const missing = await runCli('migrate', '--db', join(dir, 'missing.db'))
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/does not exist/)
    expect(existsSync(join(dir, 'missing.db'))).toBe(false)
    expect(existsSync(join(dir, 'missing.db.lock'))).toBe(false)

    const other = join(dir, 'other.db')
    const sqlite = new BetterSqlite3(other)
    sqlite.exec('CREATE TABLE notes (text TEXT)')
    sqlite.close()
    const before = readFileSync(other)
    const r = await runCli('migrate', '--db', other)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/not a tracedb database/)
    expect(readFileSync(other).equals(before)).toBe(true)
  })
})
