/**
 * Every named query on both engines: captures ingested into SQLite on two
 * "hosts", pushed with tracedb push to a real PostgreSQL (a throwaway
 * cluster), then each query run through the SQLite reader and the
 * PostgreSQL reader must return identical rows — the same columns, values
 * and order. Two hosts' captures share names and local ids on the centre, so
 * a join that forgets the capture shows up as extra rows.
 */
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ingest } from '../../src/ingest/ingest.js'
import { connectCentre, pushStore } from '../../src/push/centre.js'
import { loadCatalog, usedParams, type NamedQuery } from '../../src/queries/catalog.js'
import { bindParams, type QueryResult } from '../../src/queries/run.js'
import { openStore, type Store } from '../../src/store/open.js'
import { openReader, sqliteReader, type Reader } from '../../src/store/reader.js'
import { toPositional } from '../../src/store/postgres-reader.js'
import { runCli } from '../helpers/cli.js'
import { usePostgres } from '../helpers/postgres.js'
import { writeToolLogs } from '../helpers/tools-capture.js'

const ROOT = join(import.meta.dirname, '..', '..')
const pidOf = (dir: string, file: string): number => Number(readFileSync(join(dir, file), 'utf8').trim())
const SSH = join(ROOT, 'examples', 'ssh-login')
const NOPAM = join(ROOT, 'examples', 'ssh-login-nopam')
const TREE = join(ROOT, 'test', 'fixtures', 'captures', 'tree')

interface Capture {
  readonly host: string
  readonly name: string
  /** Root PIDs to ask the per-tree queries about. */
  readonly pids: readonly number[]
}

/** Two hosts; both have a capture named "logs", with the same local ids. */
const HOSTS: Record<string, Capture[]> = {
  'bastion-1': [
    { host: 'bastion-1', name: 'logs', pids: [pidOf(SSH, 'sshd.pid')] },
    { host: 'bastion-1', name: 'tools', pids: [3000, 3005, 4000] },
  ],
  'bastion-2': [
    { host: 'bastion-2', name: 'logs', pids: [pidOf(NOPAM, 'sshd.pid')] },
    { host: 'bastion-2', name: 'tree', pids: [pidOf(TREE, 'root.pid')] },
  ],
}

/** The argument lists each query is run with (every parameter exercised at least once). */
function argumentSets(q: NamedQuery, c: Capture): Record<string, string>[] {
  const names = q.params.map((p) => p.name)
  const sets: Record<string, string>[] = []
  const pids: (number | undefined)[] = names.includes('pid') ? [...c.pids] : [undefined]
  // an optional pid: also without it (the whole capture)
  if (q.params.some((p) => p.name === 'pid' && 'default' in p)) pids.push(undefined)
  for (const pid of pids) {
    const base: Record<string, string> = pid === undefined ? {} : { pid: String(pid) }
    if (names.includes('comm')) base.comm = 'sshd'
    sets.push(base)
    if (names.includes('port')) sets.push({ ...base, port: '2222' })
    if (names.includes('text')) sets.push({ ...base, text: 'BASH' })
    if (names.includes('errors')) sets.push({ ...base, errors: '1' })
    if (names.includes('limit')) sets.push({ ...base, limit: '-1' }, { ...base, limit: '3' })
  }
  return sets
}

const pgTest = usePostgres()

test(':name parameters become $n, leaving casts, strings, quoted names and comments alone', () => {
  const { text, values } = toPositional(
    `SELECT :a::text, ':a', ":a", $$ :a $$, E'\\' :a', x -- :a\n /* :a */ FROM t WHERE b = :b AND c = :a AND d = :missing`,
    { a: 1, b: 'x' },
    { a: 'integer' },
  )
  expect(text).toBe(`SELECT $1::bigint::text, ':a', ":a", $$ :a $$, E'\\' :a', x -- :a\n /* :a */ FROM t WHERE b = $2 AND c = $1::bigint AND d = :missing`)
  expect(values).toEqual([1, 'x'])
})

describe.skipIf(pgTest.skip)(`named queries on SQLite and PostgreSQL${pgTest.reason ? ` (${pgTest.reason})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracedb-pgread-'))
  const stores = new Map<string, Store>()
  const readers = new Map<string, Reader>()
  let url = ''
  let centre = undefined as unknown as Reader

  beforeAll(async () => {
    url = await pgTest.database()
    for (const [host, captures] of Object.entries(HOSTS)) {
      const store = openStore(join(dir, `${host}.db`))
      stores.set(host, store)
      for (const c of captures) {
        let path: string
        if (c.name === 'tools') {
          path = join(dir, 'tools')
          mkdirSync(path)
          writeToolLogs(path)
          // TCP retransmits, and a line that does not parse (bad-lines)
          cpSync(join(ROOT, 'test', 'fixtures', 'tcpretrans', 'tcpretrans.py-default.example.log'), join(path, 'tcpretrans.log'))
          appendFileSync(join(path, 'tcpretrans.log'), 'this is not a tcpretrans line\n')
        } else {
          path = join(dir, `${host}-${c.name}`)
          cpSync(c.name === 'tree' ? TREE : host === 'bastion-1' ? SSH : NOPAM, path, { recursive: true })
        }
        await ingest(store, { paths: [path], capture: c.name, host, ...(c.name === 'tools' ? { date: '2026-11-28', tz: 'UTC' } : {}) })
      }
      const client = await connectCentre(url)
      try {
        await pushStore(store.sqlite, client, {})
      } finally {
        await client.end()
      }
      readers.set(host, sqliteReader(store))
    }
    centre = await openReader(url)
  }, 120_000)

  afterAll(async () => {
    // centre is unset when beforeAll failed: the cluster must still be stopped (usePostgres)
    if (centre !== undefined) await centre.close()
    for (const s of stores.values()) s.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const catalog = loadCatalog()
  const perCapture = [...catalog.values()].filter((q) => usedParams(q.sql).has('capture'))
  const fleet = [...catalog.values()].filter((q) => !usedParams(q.sql).has('capture'))

  test('the catalog has PostgreSQL variants where the dialects differ, and fleet queries', () => {
    expect([...catalog.values()].filter((q) => q.variants?.postgres).map((q) => q.name).sort()).toEqual(['summary', 'timeline'])
    expect(fleet.map((q) => q.name).sort()).toEqual(['captures', 'hosts', 'sessions'])
  })

  for (const q of perCapture) {
    test(`${q.name}: identical rows on both engines, every capture of both hosts`, async () => {
      let compared = 0
      let nonEmpty = 0
      for (const [host, captures] of Object.entries(HOSTS)) {
        const edge = readers.get(host)
        if (!edge) throw new Error(`no store for ${host}`)
        for (const c of captures) {
          const a = await edge.resolveCapture({ name: c.name })
          const b = await centre.resolveCapture({ name: c.name, host })
          for (const args of argumentSets(q, c)) {
            const params = bindParams(q, [], args)
            const left = await edge.runNamed(q, params, a.id)
            const right = await centre.runNamed(q, params, b.id)
            expect({ capture: `${host}:${c.name}`, args, ...shape(right) }).toEqual({ capture: `${host}:${c.name}`, args, ...shape(left) })
            compared++
            if (left.rows.length > 0) nonEmpty++
          }
        }
      }
      expect(compared).toBeGreaterThan(0)
      // the comparison means something: rows on at least one capture
      expect(nonEmpty, `${q.name} returned no rows anywhere`).toBeGreaterThan(0)
    })
  }

  test('fleet queries: the centre answers for both hosts what each host answers for itself', async () => {
    for (const q of fleet) {
      const params = bindParams(q, [], q.params.some((p) => p.name === 'comm') ? { comm: 'sshd', limit: '-1' } : {})
      const right = await centre.runNamed(q, params, null)
      const left: QueryResult[] = []
      for (const r of readers.values()) left.push(await r.runNamed(q, params, null))
      expect(right.columns).toEqual(left[0]?.columns)
      const drop = (rows: readonly Record<string, unknown>[]) => rows.map(({ id: _id, updated_at: _u, ...rest }) => rest)
      const sortKey = (r: unknown) => JSON.stringify(r)
      expect(drop(right.rows).map(sortKey).sort()).toEqual(left.flatMap((l) => drop(l.rows)).map(sortKey).sort())
    }
  })

  test('sessions ranks sshd sessions of both hosts by wall time, by command not PID', async () => {
    const q = catalog.get('sessions')
    if (!q) throw new Error('no sessions query')
    const { rows } = await centre.runNamed(q, bindParams(q, [], { comm: 'sshd' }), null)
    expect(new Set(rows.map((r) => r.host))).toEqual(new Set(['bastion-1', 'bastion-2']))
    const walls = rows.map((r) => Number(r.wall_s))
    expect(walls).toEqual([...walls].sort((x, y) => y - x))
    expect(rows.length).toBe(6) // three logins per capture
  })

  test('hosts: one row per host with its captures, processes and time span', async () => {
    const q = catalog.get('hosts')
    if (!q) throw new Error('no hosts query')
    const { rows } = await centre.runNamed(q, {}, null)
    expect(rows.map((r) => [r.host, r.captures, r.names])).toEqual([
      ['bastion-1', 2, 'logs, tools'],
      ['bastion-2', 2, 'logs, tree'],
    ])
    for (const r of rows) expect(Number(r.processes)).toBeGreaterThan(0)
  })

  test('a capture name on two hosts needs --host; the reader says which hosts', async () => {
    await expect(centre.resolveCapture({ name: 'logs' })).rejects.toThrow(/exists on 2 hosts[\s\S]*/)
    await expect(centre.resolveCapture({ name: 'logs', host: 'nowhere' })).rejects.toThrow(/no capture on host "nowhere" named "logs"/)
  })

  test('sql on PostgreSQL runs in a read-only transaction: writes are refused by the server', async () => {
    await expect(centre.run('DELETE FROM process')).rejects.toThrow(/read-only transaction/)
    await expect(centre.run("SELECT set_config('default_transaction_read_only', 'off', false)")).resolves.toBeDefined()
    await expect(centre.run('CREATE TABLE x (a int)')).rejects.toThrow(/read-only transaction/)
    // one statement only: a text cannot leave the read-only transaction and write
    await expect(centre.run('SET transaction_read_only = off; DELETE FROM process; COMMIT')).rejects.toThrow(/multiple commands/)
    await expect(centre.run("SELECT set_config('transaction_read_only', 'off', false)")).rejects.toThrow(/read-write mode/)
    expect((await centre.run('SELECT count(*) AS n FROM process')).rows[0]?.n).toBeGreaterThan(0)
    const { rows } = await centre.run('SELECT count(*) AS n FROM capture WHERE host = :host', { host: 'bastion-2' })
    expect(rows).toEqual([{ n: 2 }])
  })

  test('the CLI: query, sql, schema, check, export and compare with --db postgres://', async () => {
    const sshd = String(pidOf(SSH, 'sshd.pid'))
    const q = await runCli('query', 'descendants', sshd, '--db', url, '--host', 'bastion-1', '--capture', 'logs', '--json')
    expect(q.code, q.stderr).toBe(0)
    const local = await runCli('query', 'descendants', sshd, '--db', join(dir, 'bastion-1.db'), '--capture', 'logs', '--json')
    expect(JSON.parse(q.stdout)).toEqual(JSON.parse(local.stdout))

    const ambiguous = await runCli('query', 'tree', sshd, '--db', url, '--capture', 'logs')
    expect(ambiguous.code).toBe(2)
    expect(ambiguous.stderr).toMatch(/--host[\s\S]*bastion-1, bastion-2/)

    const sql = await runCli('sql', 'DROP TABLE process', '--db', url)
    expect(sql.code).toBe(2)
    expect(sql.stderr).toMatch(/read-only transaction/)
    const write = await runCli('sql', 'DELETE FROM process', '--db', url, '--write')
    expect(write.code).toBe(2)
    expect(write.stderr).toMatch(/needs a local SQLite file/)

    const schema = await runCli('schema', 'process', '--db', url)
    expect(schema.code, schema.stderr).toBe(0)
    expect(schema.stdout).toMatch(/parent_id\s+bigint\s+\S/)

    const check = await runCli('check', '--db', url)
    expect(check.code, check.stderr).toBe(0)
    expect(check.stdout).toMatch(/ok — 4 captures/)

    const exported = await runCli('export', sshd, '--db', url, '--host', 'bastion-1', '--capture', 'logs')
    const exportedLocal = await runCli('export', sshd, '--db', join(dir, 'bastion-1.db'), '--capture', 'logs')
    expect(exported.code, exported.stderr).toBe(0)
    const strip = (t: string) => ({ ...(JSON.parse(t) as { metadata: object }), metadata: { ...(JSON.parse(t) as { metadata: object }).metadata, capture_id: 0 } })
    expect(strip(exported.stdout)).toEqual(strip(exportedLocal.stdout))

    const nopamSshd = String(pidOf(NOPAM, 'sshd.pid'))
    const compared = await runCli('compare', sshd, nopamSshd, '--db', url, '--capture', 'logs', '--host', 'bastion-1', '--host-b', 'bastion-2', '--json')
    expect(compared.code, compared.stderr).toBe(0)
    const rows = JSON.parse(compared.stdout) as { section: string; item: string; A: unknown; B: unknown }[]
    expect(rows.find((r) => r.section === 'descendants' && r.item === 'total')).toMatchObject({ A: 437, B: 425 })

    const hosts = await runCli('query', 'hosts', '--db', url)
    expect(hosts.code, hosts.stderr).toBe(0)
    expect(hosts.stdout).toMatch(/bastion-1[\s\S]*bastion-2/)
  })

  test('a PostgreSQL without tracedb tables is refused with what to do', async () => {
    const empty = await pgTest.database()
    await expect(openReader(empty)).rejects.toThrow(/has no tracedb tables/)
  })
})

/** What must be equal: column names, then every row in order. */
function shape(r: QueryResult): { columns: readonly string[]; rows: readonly Record<string, unknown>[] } {
  return { columns: r.columns, rows: r.rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, k === 'capture_id' ? '(capture)' : v]))) }
}
