/**
 * `tracedb watch DIR --push URL` end to end: the tools' files grow, the
 * watcher ingests them and ships each round to the centre; the centre ends
 * equal to the edge. A centre that cannot be reached is reported on stderr
 * and retried, and recording goes on meanwhile.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type pg from 'pg'
import BetterSqlite3 from 'better-sqlite3'
import { openStore } from '../../src/store/open.js'
import { compareCapture, connect } from '../helpers/centre.js'
import { CLI, requireBuiltCli } from '../helpers/dist.js'
import { usePostgres } from '../helpers/postgres.js'

const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'ssh-login')
const pgTest = usePostgres()

interface Watch {
  readonly child: ChildProcess
  stderr(): string
  stop(): Promise<number | null>
}

async function startWatch(dir: string, db: string, url: string): Promise<Watch> {
  const child = spawn(process.execPath, [CLI, 'watch', dir, '--db', db, '--push', url, '--host', 'edge-1', '-q'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let err = ''
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()))
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)))
  const deadline = Date.now() + 30_000
  while (!err.includes('watching') && Date.now() < deadline) await sleep(20)
  if (!err.includes('watching')) throw new Error(`watch did not start: ${err}`)
  return {
    child,
    stderr: () => err,
    stop: async () => {
      child.kill('SIGINT')
      return exited
    },
  }
}

/** Polls until `check` holds (or 30 s pass); returns whether it did. */
async function until(check: () => Promise<boolean> | boolean): Promise<boolean> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (await check()) return true
    await sleep(50)
  }
  return false
}

/** The example's logs, each cut to its first half of lines (headers included); returns the other halves. */
function halves(dir: string): Map<string, string[]> {
  mkdirSync(dir)
  copyFileSync(join(EXAMPLE, 'capture.json'), join(dir, 'capture.json'))
  const rest = new Map<string, string[]>()
  for (const f of readdirSync(EXAMPLE).filter((n) => n.endsWith('.log'))) {
    const lines = readFileSync(join(EXAMPLE, f), 'utf8').split('\n').slice(0, -1)
    const cut = Math.ceil(lines.length / 2)
    writeFileSync(join(dir, f), lines.slice(0, cut).join('\n') + '\n')
    rest.set(f, lines.slice(cut))
  }
  return rest
}

describe.skipIf(pgTest.skip)(`watch --push${pgTest.reason ? ` (${pgTest.reason})` : ''}`, () => {
  const clients: pg.Client[] = []
  beforeAll(requireBuiltCli)
  afterAll(async () => {
    for (const c of clients) await c.end()
  })

  test('files that grow while watch runs reach the centre as they are ingested; the centre ends equal to the edge', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-watch-push-'))
    const dir = join(root, 'logs')
    const rest = halves(dir)
    const db = join(root, 'edge.db')
    const url = await pgTest.database()
    const watch = await startWatch(dir, db, url)
    const reader = (): BetterSqlite3.Database => new BetterSqlite3(db, { readonly: true })
    const client = await connect(url)
    clients.push(client)
    const centreLines = async (): Promise<number> =>
      Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM log_line').catch(() => ({ rows: [{ n: '0' }] }))).rows[0]?.n)
    const edgeLines = (): number => {
      const r = reader()
      try {
        return r.prepare('SELECT count(*) FROM log_line').pluck().get() as number
      } finally {
        r.close()
      }
    }
    // the first half arrives on the centre without any push command
    expect(await until(async () => edgeLines() > 0 && (await centreLines()) === edgeLines())).toBe(true)
    const firstHalf = await centreLines()
    expect(firstHalf).toBeGreaterThan(500)
    // the rest, appended in a few chunks while it runs
    for (let k = 0; k < 4; k++) {
      for (const [f, lines] of rest) {
        const chunk = lines.slice(Math.floor((k * lines.length) / 4), Math.floor(((k + 1) * lines.length) / 4))
        if (chunk.length > 0) appendFileSync(join(dir, f), chunk.join('\n') + '\n')
      }
      await sleep(150)
    }
    expect(await until(async () => (await centreLines()) === 1376)).toBe(true)
    expect(await watch.stop()).toBe(0)
    const edge = openStore(db, { readonly: true })
    try {
      expect((await compareCapture(client, edge.sqlite, 1)).filter((r) => r.mismatches > 0)).toEqual([])
      const host = await client.query<{ host: string; name: string }>('SELECT host, name FROM capture')
      expect(host.rows).toEqual([{ host: 'edge-1', name: 'logs' }])
    } finally {
      edge.close()
    }
  }, 120_000)

  test('a centre that cannot be reached: said on stderr, recording goes on, and the push catches up once it can', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-watch-push-'))
    const dir = join(root, 'logs')
    halves(dir)
    const db = join(root, 'edge.db')
    const cluster = await pgTest.cluster()
    // a database that does not exist yet: every push fails until it is created
    const name = `late_${String(process.pid)}`
    const url = cluster.urlOf(name)
    const watch = await startWatch(dir, db, url)
    expect(await until(() => /push to .* failed: .*recording goes on, retrying in \d+ s/.test(watch.stderr()))).toBe(true)
    // recording went on: the lines are in the edge store
    const r = new BetterSqlite3(db, { readonly: true })
    expect(r.prepare('SELECT count(*) FROM log_line').pluck().get()).toBeGreaterThan(500)
    r.close()
    expect(watch.child.exitCode).toBeNull()
    await cluster.createDatabase(name)
    const client = await connect(url)
    clients.push(client)
    expect(
      await until(async () => {
        const res = await client.query<{ n: string }>('SELECT count(*) AS n FROM log_line').catch(() => undefined)
        return Number(res?.rows[0]?.n ?? 0) > 500
      }),
    ).toBe(true)
    expect(watch.stderr()).toContain('works again')
    expect(await watch.stop()).toBe(0)
    const edge = openStore(db, { readonly: true })
    try {
      expect((await compareCapture(client, edge.sqlite, 1)).filter((x) => x.mismatches > 0)).toEqual([])
    } finally {
      edge.close()
    }
  }, 120_000)
})
