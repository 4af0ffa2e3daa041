import BetterSqlite3 from 'better-sqlite3'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { FORMATS } from '../../src/formats/index.js'
import { loadMigrations, migrate } from '../../src/store/migrate.js'
import { openStore } from '../../src/store/open.js'
import { CORE_COLUMNS, EVENT_COLUMNS } from '../../src/store/schema.js'

const columnsOf = (db: BetterSqlite3.Database, table: string) =>
  db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string; type: string }[]

describe('schema', () => {
  const store = openStore(':memory:')

  test.each(Object.entries(CORE_COLUMNS))('core table %s matches the Database interface', (table, columns) => {
    expect(columnsOf(store.sqlite, table).map((c) => c.name)).toEqual(columns)
  })

  test.each(FORMATS.map((f) => [f.name, f] as const))('%s_event matches the format\'s declared columns', (_name, format) => {
    const info = columnsOf(store.sqlite, `${format.name}_event`)
    expect(info.map((c) => c.name)).toEqual([...EVENT_COLUMNS, ...format.columns.map((c) => c.name)])
    const types = Object.fromEntries(info.map((c) => [c.name, c.type]))
    for (const c of format.columns) expect(types[c.name], c.name).toBe(c.kind.toUpperCase())
    expect(new Set(format.columns.map((c) => c.name)).size).toBe(format.columns.length)
  })

  test('every format has a title, description, url, columns and real samples', () => {
    for (const f of FORMATS) {
      expect(f.url).toMatch(/^https:\/\//)
      expect(f.description.length).toBeGreaterThan(20)
      expect(f.columns.length).toBeGreaterThan(2)
      expect(f.samples.length).toBeGreaterThan(0)
      for (const c of f.columns) expect(c.description.length, `${f.name}.${c.name}`).toBeGreaterThan(5)
    }
  })
})

describe('migrations', () => {
  test('named NNNN_name.sql, applied once, each with its bookkeeping row', () => {
    const names = loadMigrations().map((m) => m.name)
    expect(names.length).toBeGreaterThan(3)
    expect([...names].sort()).toEqual(names)
    const db = new BetterSqlite3(':memory:')
    expect(migrate(db).applied).toEqual(names)
    expect(migrate(db).applied).toEqual([])
    expect(db.prepare('SELECT name FROM _tracedb_migrations ORDER BY name').pluck().all()).toEqual(names)
  })

  test('a database from a newer tracedb is refused with a clear message', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tracedb-mig-')), 'new.db')
    openStore(path).close()
    const raw = new BetterSqlite3(path)
    raw.prepare("INSERT INTO _tracedb_migrations VALUES ('9999_from_the_future', 'x')").run()
    raw.close()
    expect(() => openStore(path)).toThrow(/newer tracedb: unknown migration "9999_from_the_future"/)
  })

  test('a file that is not a database is reported, not crashed on', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tracedb-mig-')), 'junk.db')
    writeFileSync(path, 'this is not sqlite '.repeat(100))
    expect(() => openStore(path)).toThrow(/cannot use database/)
  })
})
