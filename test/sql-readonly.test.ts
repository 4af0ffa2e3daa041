import BetterSqlite3 from 'better-sqlite3'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { openStore } from '../src/store/open.js'
import { runCli } from './helpers/cli.js'

let dir: string
let db: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tracedb-sql-ro-'))
  db = join(dir, 'ro.db')
  const store = openStore(db)
  store.sqlite
    .prepare("INSERT INTO capture (name, created_at, updated_at) VALUES ('c', '2026-11-28T00:00:00Z', '2026-11-28T00:00:00Z')")
    .run()
  store.sqlite.prepare("INSERT INTO process (capture_id, pid, comm) VALUES (1, 1442, 'sshd')").run()
  store.close()
})

const inDir = (name: string): string => join(dir, name)
const userVersion = (): number => {
  const s = new BetterSqlite3(db, { readonly: true })
  try {
    return s.pragma('user_version', { simple: true }) as number
  } finally {
    s.close()
  }
}

/**
 * Every kind of statement `tracedb sql` (without --write) must refuse: what
 * is tried, what the error must name, and what must not have happened.
 */
const REFUSED: { kind: string; sql: () => string; says: RegExp; after?: () => void }[] = [
  { kind: 'INSERT', sql: () => 'insert into process (capture_id, pid) values (1, 7)', says: /refused INSERT: it writes/ },
  { kind: 'REPLACE', sql: () => 'replace into process (id, capture_id, pid) values (1, 1, 7)', says: /refused REPLACE: it writes/ },
  { kind: 'UPDATE', sql: () => "update process set comm = 'x'", says: /refused UPDATE: it writes/ },
  { kind: 'DELETE', sql: () => 'delete from process', says: /refused DELETE: it writes/ },
  { kind: 'WITH … DELETE', sql: () => 'with p as (select 1442 as pid) delete from process where pid in (select pid from p)', says: /refused WITH: it writes/ },
  { kind: 'CREATE TABLE', sql: () => 'create table t (x)', says: /refused CREATE TABLE: it writes/ },
  { kind: 'CREATE INDEX', sql: () => 'create index i on process (comm)', says: /refused CREATE INDEX: it writes/ },
  { kind: 'DROP TABLE', sql: () => 'drop table process', says: /refused DROP TABLE: it writes/ },
  { kind: 'ALTER TABLE', sql: () => 'alter table process add column y', says: /refused ALTER TABLE: it writes/ },
  { kind: 'CREATE TEMP TABLE', sql: () => 'create temp table t (x)', says: /refused CREATE TEMP TABLE: it creates a temporary/ },
  { kind: 'CREATE TEMP VIEW', sql: () => 'create temporary view v as select 1', says: /refused CREATE TEMP VIEW: it creates a temporary/ },
  {
    kind: 'CREATE TEMP TRIGGER',
    sql: () => 'create temp trigger tr after insert on main.process begin select 1; end',
    says: /refused CREATE TEMP TRIGGER: it creates a temporary/,
  },
  { kind: 'ANALYZE', sql: () => 'analyze', says: /refused ANALYZE: it writes/ },
  { kind: 'REINDEX', sql: () => 'reindex', says: /refused REINDEX: it writes/ },
  { kind: 'VACUUM', sql: () => 'vacuum', says: /refused VACUUM: it writes/ },
  {
    kind: 'VACUUM INTO',
    sql: () => `vacuum into '${inDir('copy.db')}'`,
    says: /refused VACUUM INTO: it writes a copy of the database to a file/,
    after: () => expect(existsSync(inDir('copy.db'))).toBe(false),
  },
  {
    kind: 'ATTACH',
    sql: () => `attach database '${inDir('attached.db')}' as other`,
    says: /refused ATTACH: it opens another database file/,
    after: () => expect(existsSync(inDir('attached.db'))).toBe(false),
  },
  { kind: 'ATTACH :memory:', sql: () => "attach ':memory:' as m", says: /refused ATTACH/ },
  { kind: 'DETACH', sql: () => 'detach database other', says: /refused DETACH: it opens another database file/ },
  {
    kind: 'PRAGMA name = value',
    sql: () => 'pragma user_version = 7',
    says: /refused PRAGMA user_version: it changes a setting/,
    after: () => expect(userVersion()).toBe(0),
  },
  { kind: 'PRAGMA name(value)', sql: () => 'pragma cache_size(10)', says: /refused PRAGMA cache_size: it changes a setting/ },
  {
    kind: 'PRAGMA process-wide setting',
    sql: () => `pragma temp_store_directory = '${dir}'`,
    says: /refused PRAGMA temp_store_directory: it changes a setting/,
  },
  { kind: 'PRAGMA journal_mode (even read)', sql: () => 'pragma journal_mode', says: /refused PRAGMA journal_mode: it writes/ },
  { kind: 'PRAGMA wal_checkpoint', sql: () => 'pragma wal_checkpoint(truncate)', says: /refused PRAGMA wal_checkpoint: it acts on the database/ },
  { kind: 'PRAGMA optimize', sql: () => 'pragma optimize', says: /refused PRAGMA optimize: it acts on the database/ },
  { kind: 'load_extension', sql: () => "select load_extension('/nonexistent/evil.so')", says: /refused load_extension\(\): it loads native code/ },
  {
    kind: 'load_extension nested',
    sql: () => "select comm from process where pid = 0 and load_extension('/nonexistent/evil.so') is null",
    says: /refused load_extension\(\)/,
  },
  // the same, disguised: comments, case, empty statements, EXPLAIN in front
  { kind: 'comment before ATTACH', sql: () => `/* hi */ -- there\n AtTaCh '${inDir('sneaky.db')}' AS s`, says: /refused ATTACH/, after: () => expect(existsSync(inDir('sneaky.db'))).toBe(false) },
  { kind: 'empty statements before PRAGMA', sql: () => ' ; ;pragma/**/user_version=9', says: /refused PRAGMA user_version/, after: () => expect(userVersion()).toBe(0) },
  { kind: 'EXPLAIN PRAGMA', sql: () => 'explain pragma main.user_version = 9', says: /refused PRAGMA user_version/, after: () => expect(userVersion()).toBe(0) },
  { kind: 'quoted PRAGMA name', sql: () => "pragma 'user_version' = 9", says: /refused PRAGMA/, after: () => expect(userVersion()).toBe(0) },
]

describe('tracedb sql is read-only', () => {
  test.each(REFUSED.map((c) => [c.kind, c] as const))('refuses %s: says what, why and what to try; nothing happens', async (_kind, c) => {
    const before = readFileSync(db)
    const r = await runCli('sql', c.sql(), '--db', db)
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toMatch(/^error: tracedb sql is read-only: /)
    expect(r.stderr).toMatch(c.says)
    expect(r.stderr).toMatch(/\nhint: \S/)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    c.after?.()
    expect(readFileSync(db).equals(before), 'the database file changed').toBe(true)
    const still = await runCli('sql', 'select count(*) as n from process', '--db', db, '--json')
    expect(JSON.parse(still.stdout)).toEqual([{ n: 1 }])
  })

  test('a second statement is never run', async () => {
    const r = await runCli('sql', 'select 1; drop table process', '--db', db)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/more than one statement/)
    const still = await runCli('sql', 'select count(*) as n from process', '--db', db, '--json')
    expect(JSON.parse(still.stdout)).toEqual([{ n: 1 }])
  })

  test.each([
    'select pid, comm from process',
    'with p as (select pid from process) select count(*) from p',
    'pragma table_info(process)',
    'pragma main.index_list(process)',
    'pragma user_version',
    'pragma quick_check',
    "select name from pragma_table_info('process')",
    'explain query plan select * from process where pid = 1442',
    '/* a comment first */ select 1 -- and last',
  ])('reads still work: %s', async (sql) => {
    const r = await runCli('sql', sql, '--db', db, '--json')
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toBeInstanceOf(Array)
  })

  test('--write still writes (under the writer lock)', async () => {
    const copy = join(dir, 'w.db')
    openStore(copy).close()
    const r = await runCli('sql', 'pragma user_version = 3', '--write', '--db', copy)
    expect(r.code, r.stderr).toBe(0)
    const s = new BetterSqlite3(copy, { readonly: true })
    expect(s.pragma('user_version', { simple: true })).toBe(3)
    s.close()
  })
})

test('the README cites how many statements these tests see refused', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8')
  expect(readme).toContain(`${String(REFUSED.length)} statements refused by \`tracedb sql\``)
})
