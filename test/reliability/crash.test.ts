import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { generate } from '../../src/gen/generate.js'
import { openStore } from '../../src/store/open.js'
import { canonicalDump } from '../helpers/canonical.js'

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js')
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
  test.skipIf(!existsSync(CLI))(
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

      let killed = 0
      const perDb = 5
      for (let d = 0; d < Math.ceil(KILLS / perDb); d++) {
        const db = join(root, `crash-${String(d)}.db`)
        for (let k = 0; k < perDb; k++) {
          // spread the kill points over the whole run, startup included
          const i = d * perDb + k
          const at = 40 + Math.round(((i * 7919) % KILLS) / KILLS * duration)
          if ((await killAfter(dir, db, at)) === 'killed') killed++
        }
        const rerun = spawnSync(process.execPath, ingestArgs(dir, db))
        expect(rerun.status, rerun.stderr.toString()).toBe(0)
        const store = openStore(db)
        try {
          expect(store.sqlite.prepare('PRAGMA quick_check').pluck().get()).toBe('ok')
          const dump = canonicalDump(store, dir)
          expect(dump.lines).toEqual(reference.lines)
          expect(dump.records).toEqual(reference.records)
          expect(dump.processes).toEqual(reference.processes)
        } finally {
          store.close()
        }
      }
      console.log(`crash consistency: ${String(killed)} of ${String(KILLS)} ingest runs killed mid-way, all recovered`)
      // most runs must really have been killed mid-way for this to mean anything
      expect(killed).toBeGreaterThan(KILLS * 0.6)
    },
    600_000,
  )
})
