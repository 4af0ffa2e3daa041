/**
 * kill -9 of `tracedb push` at spread-out points, then a rerun: the centre
 * ends equal to the edge, nothing duplicated or lost — like the ingest
 * crash tests (test/reliability/crash.test.ts). A test hook makes each push
 * commit in many small units and pause inside each unit's transaction, so
 * kills land before, inside and between units.
 */
import { spawn, spawnSync } from 'node:child_process'
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type pg from 'pg'
import { generate } from '../../src/gen/generate.js'
import { ingest } from '../../src/ingest/ingest.js'
import { openStore } from '../../src/store/open.js'
import { compareCapture, connect } from '../helpers/centre.js'
import { CLI, requireBuiltCli } from '../helpers/dist.js'
import { usePostgres } from '../helpers/postgres.js'

const KILLS = Number(process.env.TRACEDB_PUSH_KILLS ?? 12)
const pgTest = usePostgres()

const HOOKS = { TRACEDB_PUSH_UNIT_LINES: '300', TRACEDB_PUSH_PAUSE_MS: '20' }

function pushArgs(db: string, url: string): string[] {
  return [CLI, 'push', '--to', url, '--db', db, '--json']
}

/** Starts a push and SIGKILLs it after `ms`; resolves when it is gone. */
function killAfter(db: string, url: string, ms: number): Promise<'killed' | 'finished'> {
  const child = spawn(process.execPath, pushArgs(db, url), { stdio: 'ignore', env: { ...process.env, ...HOOKS } })
  const timer = setTimeout(() => child.kill('SIGKILL'), ms)
  return new Promise((ok) =>
    child.once('exit', (_code, signal) => {
      clearTimeout(timer)
      ok(signal === 'SIGKILL' ? 'killed' : 'finished')
    }),
  )
}

/** A complete push; returns the rows it copied (source rows aside) and its duration. */
function pushAll(db: string, url: string): { rows: number; ms: number } {
  const t0 = Date.now()
  const r = spawnSync(process.execPath, pushArgs(db, url), { encoding: 'utf8', env: { ...process.env, ...HOOKS } })
  if (r.status !== 0) throw new Error(`push failed: ${r.stderr}`)
  const reports = JSON.parse(r.stdout) as { rows: Record<string, number> }[]
  const rows = reports.reduce((n, x) => n + Object.entries(x.rows).reduce((m, [t, c]) => (t === 'source' ? m : m + c), 0), 0)
  return { rows, ms: Date.now() - t0 }
}

describe.skipIf(pgTest.skip)(`kill -9 of push${pgTest.reason ? ` (${pgTest.reason})` : ''}`, () => {
  const clients: pg.Client[] = []
  beforeAll(requireBuiltCli)
  afterAll(async () => {
    for (const c of clients) await c.end()
  })

  test(`killed at ${String(KILLS)} points of a first push and of an incremental one, then rerun: the centre equals the edge`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-push-crash-'))
    const full = join(root, 'full')
    await generate(full, { processes: 2500, seed: 11, opensPerProcess: 1 })
    const dir = join(root, 'logs')
    const files = readdirSync(full).filter((f) => f.endsWith('.log'))
    // the edge: 60% of each file first, the rest later (an incremental push with changes to rows already shipped)
    const cuts = new Map<string, number>()
    mkdirSync(dir)
    for (const f of files) {
      const b = readFileSync(join(full, f))
      const cut = b.lastIndexOf(0x0a, Math.floor(b.length * (f.startsWith('opensnoop') ? 0.9 : 0.6))) + 1
      writeFileSync(join(dir, f), b.subarray(0, cut))
      cuts.set(f, cut)
    }
    const db = join(root, 'edge.db')
    const edge = openStore(db)
    await ingest(edge, { paths: [dir], date: '2026-11-28', tz: 'UTC' })
    const url = await pgTest.database()
    const client = await connect(url)
    clients.push(client)

    // a clean push to another database gives the duration to spread the kills over
    const reference = pushAll(db, await pgTest.database())
    expect(reference.rows).toBeGreaterThan(10_000)

    let killed = 0
    const killRound = async (kills: number, spread: number): Promise<number> => {
      let attempts = 0
      let done = 0
      while (done < kills && attempts < kills * 4) {
        const at = 40 + Math.round((((attempts++ * 7919) % 97) / 97) * reference.ms * spread)
        if ((await killAfter(db, url, at)) === 'killed') {
          done++
          killed++
        }
      }
      return done
    }
    expect(await killRound(Math.ceil(KILLS / 2), 0.9)).toBe(Math.ceil(KILLS / 2))
    pushAll(db, url)
    expect((await compareCapture(client, edge.sqlite, 1)).filter((r) => r.mismatches > 0)).toEqual([])

    // more lines: derivation changes rows already shipped; kills again during the incremental push
    for (const f of files) appendFileSync(join(dir, f), readFileSync(join(full, f)).subarray(cuts.get(f)))
    await ingest(edge, { paths: [dir], date: '2026-11-28', tz: 'UTC' })
    // the incremental push is shorter: kills spread over its first part
    expect(await killRound(Math.floor(KILLS / 2), 0.5)).toBeGreaterThan(0)
    pushAll(db, url)
    const result = await compareCapture(client, edge.sqlite, 1)
    expect(result.filter((r) => r.mismatches > 0)).toEqual([])
    expect(result.find((r) => r.table === 'log_line')?.edge).toBeGreaterThan(5_000)
    expect(killed).toBeGreaterThan(Math.ceil(KILLS / 2))
    // nothing left to send
    expect(pushAll(db, url).rows).toBe(0)
    edge.close()
  }, 300_000)
})
