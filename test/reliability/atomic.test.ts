import { spawn, spawnSync } from 'node:child_process'
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { describe, expect, test } from 'vitest'
import { generate } from '../../src/gen/generate.js'
import { openStore } from '../../src/store/open.js'
import { canonicalDump } from '../helpers/canonical.js'

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js')

/** What a reader must never see: a half-derived snapshot. Returns the violations found in one read transaction. */
function violations(reader: BetterSqlite3.Database): string[] {
  const found: string[] = []
  reader.exec('BEGIN')
  try {
    const q = (sql: string): number => reader.prepare(sql).pluck().get() as number
    const lines = q('SELECT coalesce(max(id), 0) FROM log_line')
    const through = q('SELECT coalesce(max(derived_through), 0) FROM derive_state')
    if (lines > through) found.push(`lines up to ${String(lines)} but derived through ${String(through)}`)
    const unlinked = q('SELECT count(*) FROM execsnoop_event WHERE process_id IS NULL AND pid IS NOT NULL')
    if (unlinked > 0) found.push(`${String(unlinked)} exec rows without their instance`)
    const orphans = q('SELECT count(*) FROM process p WHERE parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM process q WHERE q.id = p.parent_id)')
    if (orphans > 0) found.push(`${String(orphans)} parent links to missing instances`)
    const dangling = q('SELECT count(*) FROM execsnoop_event e WHERE process_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM process p WHERE p.id = e.process_id)')
    if (dangling > 0) found.push(`${String(dangling)} exec rows linked to missing instances`)
    const conns = q('SELECT count(*) FROM tcp_connection_pid cp WHERE NOT EXISTS (SELECT 1 FROM tcp_connection c WHERE c.id = cp.connection_id)')
    if (conns > 0) found.push(`${String(conns)} connection PIDs without their connection`)
  } finally {
    reader.exec('COMMIT')
  }
  return found
}

describe('readers never see half-derived state', () => {
  test.skipIf(!existsSync(CLI))('a second process reading while watch derives batch after batch', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-atomic-'))
    const source = join(root, 'source')
    await generate(source, { processes: 3000, seed: 4, opensPerProcess: 1 })
    const names = ['execsnoop.log', 'exitsnoop.log', 'opensnoop.log', 'tcpstates.log', 'tcplife.log']
    const data = names.map((n) => readFileSync(join(source, n)))
    const dir = join(root, 'logs')
    mkdirSync(dir)
    const db = join(root, 'live.db')
    const child = spawn(process.execPath, [CLI, 'watch', dir, '--db', db, '--date', '2026-11-28', '--tz', 'UTC', '-q'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    try {
      // the store exists (and is migrated) once the watcher says it is watching
      await new Promise<void>((ok, fail) => {
        let err = ''
        child.stderr.on('data', (b: Buffer) => {
          err += b.toString()
          if (err.includes('watching')) ok()
        })
        child.once('exit', (code) => fail(new Error(`watch exited early (${String(code)}): ${err}`)))
      })
      const reader = new BetterSqlite3(db, { readonly: true })
      const seen: string[] = []
      let snapshots = 0
      const written = names.map(() => 0)
      const chunk = 4096
      while (written.some((w, i) => w < data[i]!.length)) {
        names.forEach((n, i) => {
          const end = Math.min(data[i]!.length, written[i]! + chunk)
          if (end > written[i]!) appendFileSync(join(dir, n), data[i]!.subarray(written[i], end))
          written[i] = end
        })
        for (let k = 0; k < 5; k++) {
          seen.push(...violations(reader))
          snapshots++
          await sleep(3)
        }
      }
      for (let k = 0; k < 100; k++) {
        seen.push(...violations(reader))
        snapshots++
        await sleep(10)
      }
      const lines = reader.prepare('SELECT count(*) FROM log_line').pluck().get() as number
      reader.close()
      expect(lines).toBeGreaterThan(1000)
      expect(snapshots).toBeGreaterThan(200)
      expect(seen).toEqual([])
    } finally {
      child.kill('SIGINT')
      await new Promise((ok) => child.once('exit', ok))
    }
  }, 180_000)
})

describe('rebuild is all or nothing', () => {
  const KILLS = Number(process.env.TRACEDB_REBUILD_KILL_POINTS ?? 10)
  test.skipIf(!existsSync(CLI))(`kill -9 of rebuild at ${String(KILLS)} points leaves the store as it was`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-rebuild-'))
    const dir = join(root, 'logs')
    await generate(dir, { processes: 4000, seed: 3, opensPerProcess: 1 })
    const db = join(root, 'r.db')
    const ingest = spawnSync(process.execPath, [CLI, 'ingest', dir, '--db', db, '--date', '2026-11-28', '--tz', 'UTC', '--no-progress'])
    expect(ingest.status, ingest.stderr.toString()).toBe(0)
    const dump = (): Record<string, unknown> => {
      const s = openStore(db)
      try {
        expect(s.sqlite.prepare('PRAGMA quick_check').pluck().get()).toBe('ok')
        return canonicalDump(s, dir)
      } finally {
        s.close()
      }
    }
    const ids = (): unknown[] => {
      const s = openStore(db)
      try {
        return s.sqlite.prepare('SELECT id, pid, start_ts FROM process ORDER BY id').raw().all()
      } finally {
        s.close()
      }
    }
    const reference = dump()
    const referenceIds = ids()
    const t0 = Date.now()
    const full = spawnSync(process.execPath, [CLI, 'rebuild', '--db', db])
    expect(full.status, full.stderr.toString()).toBe(0)
    const duration = Date.now() - t0
    expect(dump()).toEqual(reference)
    expect(ids()).toEqual(referenceIds)
    let killed = 0
    for (let k = 0; killed < KILLS && k < KILLS * 3; k++) {
      const child = spawn(process.execPath, [CLI, 'rebuild', '--db', db], { stdio: 'ignore' })
      const at = 100 + Math.round(((k * 7919) % 97) / 97 * duration * 0.9)
      const timer = setTimeout(() => child.kill('SIGKILL'), at)
      const signal = await new Promise((ok) => child.once('exit', (_c, s) => ok(s)))
      clearTimeout(timer)
      if (signal === 'SIGKILL') killed++
      expect(dump()).toEqual(reference)
    }
    expect(killed).toBeGreaterThan(0)
    expect(ids()).toEqual(referenceIds)
    console.log(`rebuild: ${String(killed)} runs killed mid-way, the store as it was after each`)
  }, 300_000)
})
