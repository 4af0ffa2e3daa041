/**
 * `tracedb push` against a real PostgreSQL (a throwaway cluster): every
 * table equal to the edge's, two hosts' colliding captures, idempotence,
 * incremental pushes after more ingest, exact text and bytes.
 */
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type pg from 'pg'
import { generate } from '../../src/gen/generate.js'
import { ingest } from '../../src/ingest/ingest.js'
import { connectCentre, pushStore } from '../../src/push/centre.js'
import { copyChunks } from '../../src/push/copy.js'
import BetterSqlite3 from 'better-sqlite3'
import { openStore, type Store } from '../../src/store/open.js'
import { compareCapture, centreIdOf } from '../helpers/centre.js'
import { EXECSNOOP_T_U_X_HEADER, EXITSNOOP_T_HEADER, execLine, exitLine } from '../helpers/logs.js'
import { usePostgres } from '../helpers/postgres.js'

const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'ssh-login')
const SSHD = Number(readFileSync(join(EXAMPLE, 'sshd.pid'), 'utf8').trim())

const pgTest = usePostgres()

function expectEqual(result: Awaited<ReturnType<typeof compareCapture>>): void {
  // every table compared, row for row; a mismatch shows its first differing row
  expect(result.filter((r) => r.mismatches > 0)).toEqual([])
}

function rowsOf(reports: Awaited<ReturnType<typeof pushStore>>, skip: readonly string[] = ['source']): number {
  return reports.reduce((n, r) => n + Object.entries(r.rows).reduce((m, [t, c]) => (skip.includes(t) ? m : m + c), 0), 0)
}

test('COPY text format: tabs, newlines, backslashes, NUL, bytes, big integers and reals are written exactly', () => {
  const db = new BetterSqlite3(':memory:')
  db.exec('CREATE TABLE log_line (id INTEGER, capture_id INTEGER, raw TEXT, raw_bytes BLOB, r REAL, n TEXT)')
  db.prepare('INSERT INTO log_line VALUES (?, 7, ?, ?, ?, ?)').run(1764311884123456789n, 'a\tb\nc\\d\re', Buffer.from([0, 0xff, 0x5c]), 0.1, null)
  db.prepare('INSERT INTO log_line VALUES (2, 7, ?, NULL, ?, ?)').run('nul\0here', 1 / 3, 'x\0y')
  const spec = { table: 'log_line', columns: ['id', 'capture_id', 'raw', 'raw_bytes', 'r', 'n'], where: 'capture_id = ?', params: [7] }
  const text = [...copyChunks(db, spec, 42, { rows: 0, bytes: 0 })].join('')
  const lines = text.split('\n').map((l) => l.split('\t'))
  expect(lines.map((l) => l.filter((_f, i) => i !== 4))).toEqual([
    ['1764311884123456789', '42', 'a\\tb\\nc\\\\d\\re', '\\\\x00FF5C', '\\N'],
    // a raw line holding NUL: U+FFFD in raw, its exact bytes in raw_bytes; NUL elsewhere: U+FFFD
    ['2', '42', 'nul\uFFFDhere', `\\\\x${Buffer.from('nul\0here').toString('hex')}`, 'x\uFFFDy'],
    [''],
  ])
  // reals: text that reads back as the very same double
  expect(Number(lines[0]?.[4])).toBe(0.1)
  expect(Number(lines[1]?.[4])).toBe(1 / 3)
  db.close()
})

describe.skipIf(pgTest.skip)(`push to PostgreSQL${pgTest.reason ? ` (${pgTest.reason})` : ''}`, () => {
  const root = mkdtempSync(join(tmpdir(), 'tracedb-push-'))
  const open: Store[] = []
  const clients: pg.Client[] = []
  const store = (name: string): Store => {
    const s = openStore(join(root, name))
    open.push(s)
    return s
  }
  const centre = async (url: string): Promise<pg.Client> => {
    const c = await connectCentre(url)
    clients.push(c)
    return c
  }
  beforeAll(async () => {
    await pgTest.cluster()
  })
  afterAll(async () => {
    for (const c of clients) await c.end()
    for (const s of open) s.close()
  })

  test('ssh-login: every table on the centre equals the edge (capture_id aside); a second push adds nothing', async () => {
    const edge = store('ssh.db')
    await ingest(edge, { paths: [EXAMPLE] })
    const client = await centre(await pgTest.database())
    const first = await pushStore(edge.sqlite, client)
    expect(first).toHaveLength(1)
    expect(first[0]?.rows.log_line).toBe(1376)
    expect(first[0]?.rows.process).toBe(467)
    const result = await compareCapture(client, edge.sqlite, 1)
    expectEqual(result)
    // every table of the example has rows, so the comparison is not vacuous
    for (const t of ['log_line', 'execsnoop_event', 'exitsnoop_event', 'tcpstates_event', 'tcplife_event', 'process', 'tcp_connection', 'tcp_connection_pid']) {
      expect(result.find((r) => r.table === t)?.edge, t).toBeGreaterThan(0)
    }
    const again = await pushStore(edge.sqlite, client)
    expect(rowsOf(again)).toBe(0)
    expectEqual(await compareCapture(client, edge.sqlite, 1))
    const counts = await client.query<{ n: string }>('SELECT count(*) AS n FROM log_line')
    expect(Number(counts.rows[0]?.n)).toBe(1376)
  })

  test('two hosts, both with a capture named logs and the same local ids: no collision, every link intact on the centre', async () => {
    const alpha = store('alpha.db')
    const beta = store('beta.db')
    await ingest(alpha, { paths: [EXAMPLE], capture: 'logs', host: 'alpha' })
    await ingest(beta, { paths: [EXAMPLE], capture: 'logs', host: 'beta' })
    // the same local ids on both hosts
    const ids = (s: Store): number[] => s.sqlite.prepare('SELECT id FROM process ORDER BY id').pluck().all() as number[]
    expect(ids(alpha)).toEqual(ids(beta))
    const url = await pgTest.database()
    const client = await centre(url)
    await pushStore(alpha.sqlite, client)
    await pushStore(beta.sqlite, client)
    const captures = await client.query<{ host: string; name: string; uid: string }>('SELECT host, name, uid FROM capture ORDER BY host')
    expect(captures.rows.map((r) => [r.host, r.name])).toEqual([
      ['alpha', 'logs'],
      ['beta', 'logs'],
    ])
    expectEqual(await compareCapture(client, alpha.sqlite, 1))
    expectEqual(await compareCapture(client, beta.sqlite, 1))
    for (const host of ['alpha', 'beta']) {
      const id = Number((await client.query<{ id: string }>('SELECT id FROM capture WHERE host = $1', [host])).rows[0]?.id)
      const one = async (sql: string): Promise<number> => Number((await client.query<{ n: string }>(sql, [id])).rows[0]?.n)
      // parent links resolve within the capture
      expect(await one('SELECT count(*) AS n FROM process c WHERE c.capture_id = $1 AND c.parent_id IS NOT NULL')).toBeGreaterThan(400)
      expect(
        await one(`SELECT count(*) AS n FROM process c WHERE c.capture_id = $1 AND c.parent_id IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM process p WHERE p.capture_id = c.capture_id AND p.id = c.parent_id)`),
      ).toBe(0)
      // every record's process_id, every connection's pids and their instances
      for (const t of ['execsnoop_event', 'exitsnoop_event', 'tcpstates_event', 'tcplife_event', 'tcp_connection_pid']) {
        expect(
          await one(`SELECT count(*) AS n FROM ${t} e WHERE e.capture_id = $1 AND e.process_id IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM process p WHERE p.capture_id = e.capture_id AND p.id = e.process_id)`),
          t,
        ).toBe(0)
      }
      expect(
        await one(`SELECT count(*) AS n FROM tcp_connection_pid cp WHERE cp.capture_id = $1
                   AND NOT EXISTS (SELECT 1 FROM tcp_connection c WHERE c.capture_id = cp.capture_id AND c.id = cp.connection_id)`),
      ).toBe(0)
      expect(await one('SELECT count(*) AS n FROM tcp_connection_pid WHERE capture_id = $1')).toBeGreaterThan(0)
      // the tree under sshd, walked on the centre: the README's 437 descendants, per host
      const tree = await client.query<{ n: string }>(
        `WITH RECURSIVE d (id) AS (
           SELECT c.id FROM process c JOIN process r ON r.id = c.parent_id AND r.capture_id = c.capture_id
           WHERE r.capture_id = $1 AND r.pid = $2
           UNION ALL
           SELECT c.id FROM process c JOIN d ON c.parent_id = d.id WHERE c.capture_id = $1)
         SELECT count(*) AS n FROM d`,
        [id, SSHD],
      )
      expect(Number(tree.rows[0]?.n)).toBe(437)
    }
  })

  test('incremental: files that grow (lines cut mid-way included) are pushed as they are ingested; the centre follows every change', async () => {
    const full = join(root, 'gen-full')
    await generate(full, { processes: 800, seed: 5, opensPerProcess: 1 })
    const dir = join(root, 'gen')
    cpSync(full, dir, { recursive: true, filter: (p) => !p.endsWith('.log') })
    const files = readdirSync(full).filter((f) => f.endsWith('.log'))
    const bytes = new Map(files.map((f) => [f, readFileSync(join(full, f))]))
    const edge = store('grow.db')
    const client = await centre(await pgTest.database())
    // four steps: each file cut at 20% and 45% (at a line's end), 70% (mid-line: a partial last line,
    // dropped and read again next time), then whole
    const steps: [number, boolean][] = [
      [0.2, true],
      [0.45, true],
      [0.7, false],
      [1, true],
    ]
    const done = new Map<string, number>()
    let pushed = 0
    for (const [share, atLineEnd] of steps) {
      for (const f of files) {
        const b = bytes.get(f) as Buffer
        // opensnoop runs ahead: records of processes not seen yet, linked when they are
        const ahead = f.startsWith('opensnoop') ? Math.min(1, share + 0.3) : share
        let cut = Math.floor(b.length * ahead)
        if (atLineEnd && ahead < 1) cut = b.lastIndexOf(0x0a, cut) + 1
        else if (ahead < 1 && b[cut - 1] === 0x0a) cut -= 2
        cut = Math.max(cut, done.get(f) ?? 0)
        appendFileSync(join(dir, f), b.subarray(done.get(f) ?? 0, cut))
        done.set(f, cut)
      }
      await ingest(edge, { paths: [dir], date: '2026-11-28', tz: 'UTC' })
      const reports = await pushStore(edge.sqlite, client)
      pushed += rowsOf(reports)
      expectEqual(await compareCapture(client, edge.sqlite, 1))
    }
    // the later steps changed rows already shipped (relinked records, grown processes, a dropped partial line), and the change log carried them
    const logged = (tbl: string): number => edge.sqlite.prepare('SELECT count(*) FROM push_log WHERE tbl = ?').pluck().get(tbl) as number
    expect(logged('process')).toBeGreaterThan(0)
    expect(logged('lines')).toBeGreaterThan(0)
    // records linked anew are found through the PIDs whose instances changed
    expect(logged('pid')).toBeGreaterThan(0)
    expect(pushed).toBeGreaterThan(0)
    expect(rowsOf(await pushStore(edge.sqlite, client))).toBe(0)
  })

  test('rebuild on the edge: the next push sends the capture again and the centre equals the edge', async () => {
    const edge = store('rebuild.db')
    await ingest(edge, { paths: [EXAMPLE] })
    const client = await centre(await pgTest.database())
    await pushStore(edge.sqlite, client)
    const { rebuild } = await import('../../src/ingest/rebuild.js')
    rebuild(edge)
    const reports = await pushStore(edge.sqlite, client)
    expect(reports[0]?.rows.log_line).toBe(1376)
    expectEqual(await compareCapture(client, edge.sqlite, 1))
  })

  test('odd text: tabs, backslashes, invalid UTF-8 and NUL bytes in log lines arrive exactly (NUL lines keep their bytes in raw_bytes)', async () => {
    const dir = join(root, 'odd')
    cpSync(EXAMPLE, dir, { recursive: true, filter: (p) => !p.endsWith('.log') || p.endsWith('exitsnoop.log') })
    const lines = [
      EXECSNOOP_T_U_X_HEADER,
      execLine('06:38:05', 30001, 1, 'sh', 'sh -c printf\t"a\\\\tb"'),
      execLine('06:38:05', 30002, 1, 'tr', "tr '\0' x"),
      execLine('06:38:05', 30003, 1, 'cat', 'cat caf\u00e9'),
    ]
    const text = Buffer.from(lines.join('\n') + '\n', 'utf8')
    // a line of invalid UTF-8 (a lone 0xff byte in the arguments)
    const invalid = Buffer.concat([Buffer.from(execLine('06:38:06', 30004, 1, 'ls', 'ls X').replace(' X ', ' '), 'latin1'), Buffer.from([0xff, 0x0a])])
    writeFileSync(join(dir, 'execsnoop.log'), Buffer.concat([text, invalid]))
    writeFileSync(join(dir, 'exitsnoop.log'), [EXITSNOOP_T_HEADER, exitLine('06:38:07', 30001, 1, 'sh', 1.5)].join('\n') + '\n')
    const edge = store('odd.db')
    await ingest(edge, { paths: [dir] })
    const client = await centre(await pgTest.database())
    await pushStore(edge.sqlite, client)
    const centreId = await centreIdOf(client, edge.sqlite.prepare('SELECT uid FROM capture').pluck().get() as string)
    const res = await client.query<{ raw: string; raw_bytes: Buffer | null }>(
      "SELECT raw, raw_bytes FROM log_line WHERE capture_id = $1 AND kind = 'record' ORDER BY id",
      [centreId],
    )
    const edgeLines = edge.sqlite.prepare("SELECT raw, raw_bytes FROM log_line WHERE kind = 'record' ORDER BY id").all() as {
      raw: string
      raw_bytes: Buffer | null
    }[]
    expect(res.rows).toHaveLength(edgeLines.length)
    expect(edgeLines.length).toBeGreaterThanOrEqual(4)
    for (const [i, e] of edgeLines.entries()) {
      const c = res.rows[i] as { raw: string; raw_bytes: Buffer | null }
      // the exact bytes of the line: from raw_bytes where set, else raw's UTF-8
      expect(c.raw_bytes ?? Buffer.from(c.raw, 'utf8')).toEqual(e.raw_bytes ?? Buffer.from(e.raw, 'utf8'))
      if (!e.raw.includes('\0')) expect(c.raw).toBe(e.raw)
    }
    expect(res.rows.some((r) => r.raw.includes('\t') && r.raw.includes('\\'))).toBe(true)
    expect(res.rows.some((r) => r.raw_bytes?.includes(0) === true)).toBe(true)
    expect(res.rows.some((r) => r.raw_bytes?.includes(0xff) === true)).toBe(true)
  })
})
