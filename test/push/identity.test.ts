/**
 * Identity across hosts on the edge (migration 0043): every capture has a
 * unique uid (backfilled for old stores), and a host from capture.json or
 * --host. And the centre's own migrations (migrations/postgres/).
 */
import BetterSqlite3 from 'better-sqlite3'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { ensureCapture } from '../../src/ingest/capture.js'
import { loadMigrations, migrate } from '../../src/store/migrate.js'
import { loadPgMigrations, migratePostgres, pendingPostgres } from '../../src/store/postgres/migrate.js'
import { runCli } from '../helpers/cli.js'
import { connect } from '../helpers/centre.js'
import { usePostgres } from '../helpers/postgres.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'ssh-login')
const pgTest = usePostgres()

test('0043 gives every existing capture a unique UUID and its host from capture.json; new captures get one too', () => {
  const db = new BetterSqlite3(':memory:')
  const all = loadMigrations()
  migrate(db, all.filter((m) => m.name < '0043'))
  const insert = db.prepare("INSERT INTO capture (name, created_at, updated_at, meta) VALUES (?, 'x', 'x', ?)")
  for (let i = 0; i < 200; i++) insert.run(`c${String(i)}`, i === 0 ? '{"hostname":"bastion-7"}' : i === 1 ? 'not json' : null)
  migrate(db, all)
  const rows = db.prepare('SELECT name, uid, host FROM capture ORDER BY id').all() as { name: string; uid: string; host: string | null }[]
  for (const r of rows) expect(r.uid).toMatch(UUID)
  expect(new Set(rows.map((r) => r.uid)).size).toBe(200)
  expect(rows.slice(0, 3).map((r) => r.host)).toEqual(['bastion-7', null, null])
  const id = ensureCapture(db, 'fresh', undefined, undefined, undefined, 'h2')
  expect(db.prepare('SELECT uid, host FROM capture WHERE id = ?').get(id)).toEqual({ uid: expect.stringMatching(UUID), host: 'h2' })
  // a uid is unique: the index refuses a copy
  expect(() => db.prepare("UPDATE capture SET uid = (SELECT uid FROM capture WHERE name = 'c0') WHERE name = 'c1'").run()).toThrow(/UNIQUE/)
  db.close()
})

test('ingest takes the host from capture.json, and --host overrides it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracedb-host-'))
  const a = join(dir, 'a.db')
  const b = join(dir, 'b.db')
  expect((await runCli('ingest', EXAMPLE, '--db', a, '--no-progress')).code).toBe(0)
  expect((await runCli('ingest', EXAMPLE, '--db', b, '--no-progress', '--host', 'bastion-3')).code).toBe(0)
  const host = (file: string): unknown => {
    const db = new BetterSqlite3(file, { readonly: true })
    try {
      return db.prepare('SELECT host FROM capture').pluck().get()
    } finally {
      db.close()
    }
  }
  expect(host(a)).toBe('vm')
  expect(host(b)).toBe('bastion-3')
})

test('push refuses what is not a PostgreSQL URL, and says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracedb-host-'))
  const db = join(dir, 'a.db')
  expect((await runCli('ingest', EXAMPLE, '--db', db, '--no-progress')).code).toBe(0)
  const r = await runCli('push', '--to', 'mysql://x/y', '--db', db)
  expect(r.code).not.toBe(0)
  expect(r.stderr).toMatch(/not a PostgreSQL URL/)
  const unreachable = await runCli('push', '--to', 'postgres://postgres@127.0.0.1:1/x', '--db', db)
  expect(unreachable.code).toBe(2)
  expect(unreachable.stderr).toMatch(/cannot connect to postgres:\/\/postgres@127\.0\.0\.1:1\/x/)
})

describe.skipIf(pgTest.skip)(`PostgreSQL migrations${pgTest.reason ? ` (${pgTest.reason})` : ''}`, () => {
  test('applied once, in order, recorded; a database from a newer tracedb is refused', async () => {
    const client = await connect(await pgTest.database())
    try {
      expect(await pendingPostgres(client)).toEqual(loadPgMigrations().map((m) => m.name))
      const first = await migratePostgres(client)
      expect(first.applied).toEqual(loadPgMigrations().map((m) => m.name))
      expect((await migratePostgres(client)).applied).toEqual([])
      expect(await pendingPostgres(client)).toEqual([])
      // the centre's tables lead their keys with capture_id
      const pk = await client.query<{ def: string }>(
        "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'process'::regclass AND contype = 'p'",
      )
      expect(pk.rows[0]?.def).toBe('PRIMARY KEY (capture_id, id)')
      await client.query("INSERT INTO _tracedb_migrations VALUES ('9999_future', 'x')")
      await expect(migratePostgres(client)).rejects.toThrow(/newer tracedb: unknown migration "9999_future"/)
    } finally {
      await client.end()
    }
  })
})
