import { spawn, spawnSync } from 'node:child_process'
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { generate } from '../../src/gen/generate.js'
import { ingest } from '../../src/ingest/ingest.js'
import { openStore } from '../../src/store/open.js'
import { canonicalDump } from '../helpers/canonical.js'
import { CLI, requireBuiltCli } from '../helpers/dist.js'

const KILLS = Number(process.env.TRACEDB_KILL_POINTS ?? 50)

function ingestArgs(dir: string, db: string): string[] {
  return [CLI, 'ingest', dir, '--db', db, '--date', '2026-11-28', '--tz', 'UTC', '--no-progress']
}

/** Starts an ingest and SIGKILLs it after `ms`; resolves when it is gone. */
function killAfter(dir: string, db: string, ms: number): Promise<'killed' | 'finished'> {
  const child = spawn(process.execPath, ingestArgs(dir, db), { stdio: 'ignore' })
  const timer = setTimeout(() => child.kill('SIGKILL'), ms)
  return new Promise((ok) =>
    child.once('exit', (_code, signal) => {
      clearTimeout(timer)
      ok(signal === 'SIGKILL' ? 'killed' : 'finished')
    }),
  )
}

describe('crash consistency', () => {
  beforeAll(requireBuiltCli)

  test(
    `kill -9 of ingest at ${String(KILLS)} points, then a rerun: identical to a clean run`,
    async () => {
      const root = mkdtempSync(join(tmpdir(), 'tracedb-crash-'))
      const dir = join(root, 'logs')
      await generate(dir, { processes: 15_000, seed: 9 })
      const cleanDb = join(root, 'clean.db')
      const t0 = Date.now()
      const clean = spawnSync(process.execPath, ingestArgs(dir, cleanDb))
      const duration = Date.now() - t0
      expect(clean.status).toBe(0)
      const s = openStore(cleanDb)
      const reference = canonicalDump(s, dir)
      s.close()

      // Each database takes up to 3 kills, each at a different point of the
      // run (startup included), then a clean rerun; only kills that really
      // interrupted an ingest count, until KILLS of them.
      let killed = 0
      let attempts = 0
      let d = 0
      while (killed < KILLS && attempts < KILLS * 6) {
        const db = join(root, `crash-${String(d++)}.db`)
        for (let k = 0; k < 3 && killed < KILLS; k++) {
          const at = 30 + Math.round((((attempts++ * 7919) % 97) / 97) * duration * 0.9)
          if ((await killAfter(dir, db, at)) === 'killed') killed++
        }
        const rerun = spawnSync(process.execPath, ingestArgs(dir, db))
        expect(rerun.status, rerun.stderr.toString()).toBe(0)
        const store = openStore(db)
        try {
          expect(store.sqlite.prepare('PRAGMA quick_check').pluck().get()).toBe('ok')
          expect(canonicalDump(store, dir)).toEqual(reference)
        } finally {
          store.close()
        }
      }
      console.log(`crash consistency: ${String(killed)} ingest runs killed mid-way (${String(attempts)} tries, ${String(d)} databases), all recovered`)
      expect(killed).toBe(KILLS)
    },
    600_000,
  )

  const WATCH_KILLS = Number(process.env.TRACEDB_WATCH_KILL_POINTS ?? 12)

  test(
    `kill -9 of watch at ${String(WATCH_KILLS)} points while the tools write: equals a one-shot ingest`,
    async () => {
      const root = mkdtempSync(join(tmpdir(), 'tracedb-crash-watch-'))
      const source = join(root, 'source')
      await generate(source, { processes: 3000, seed: 21, opensPerProcess: 1 })
      const names = ['execsnoop.log', 'exitsnoop.log', 'opensnoop.log', 'tcpstates.log', 'tcplife.log']
      const data = names.map((n) => readFileSync(join(source, n)))
      const written = names.map(() => 0)
      const dir = join(root, 'logs')
      mkdirSync(dir)
      const db = join(root, 'watch.db')
      const start = async () => {
        const child = spawn(process.execPath, [CLI, 'watch', dir, '--db', db, '--date', '2026-11-28', '--tz', 'UTC', '-q'], {
          stdio: ['ignore', 'ignore', 'pipe'],
        })
        let err = ''
        await new Promise<void>((ok, fail) => {
          child.stderr.on('data', (b: Buffer) => {
            err += b.toString()
            if (err.includes('watching')) ok()
          })
          child.once('exit', (code) => fail(new Error(`watch exited early (${String(code)}): ${err}`)))
        })
        return child
      }
      let child = await start()
      let kills = 0
      let step = 0
      const total = data.reduce((a, b) => a + b.length, 0)
      const chunk = Math.ceil(total / 300)
      while (written.some((w, i) => w < data[i]!.length)) {
        step++
        names.forEach((n, i) => {
          const buf = data[i]!
          const end = Math.min(buf.length, written[i]! + Math.ceil((chunk * buf.length) / total) + (step % 7) * 13)
          if (end > written[i]!) appendFileSync(join(dir, n), buf.subarray(written[i], end))
          written[i] = end
        })
        // kill at irregular steps: mid-batch, mid-derive, right after a write
        if (kills < WATCH_KILLS && step % 23 === 11) {
          await sleep(step % 3 === 0 ? 0 : (step * 37) % 120)
          child.kill('SIGKILL')
          await new Promise((ok) => child.once('exit', ok))
          kills++
          child = await start()
        }
        await sleep(2)
      }
      await sleep(500)
      const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)))
      child.kill('SIGINT')
      expect(await exited).toBe(0)
      expect(kills).toBe(WATCH_KILLS)

      const oneShot = openStore(join(root, 'oneshot.db'))
      await ingest(oneShot, { paths: [dir], date: '2026-11-28', tz: 'UTC' })
      const live = openStore(db)
      try {
        expect(live.sqlite.prepare('PRAGMA quick_check').pluck().get()).toBe('ok')
        expect(canonicalDump(live, dir)).toEqual(canonicalDump(oneShot, dir))
      } finally {
        live.close()
        oneShot.close()
      }
      console.log(`crash consistency: watch killed ${String(kills)} times while 5 files grew, final database equals a one-shot ingest`)
    },
    300_000,
  )
})
