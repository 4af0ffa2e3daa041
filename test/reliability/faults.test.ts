import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, openSync, writeSync, closeSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { generate } from '../../src/gen/generate.js'
import { openStore } from '../../src/store/open.js'
import { canonicalDump } from '../helpers/canonical.js'
import { CLI, requireBuiltCli } from '../helpers/dist.js'

const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' })
const isRoot = process.getuid?.() === 0

describe('database faults', () => {
  beforeAll(requireBuiltCli)

  test('two ingests at once into one database: one waits for the other, the result is a single clean ingest', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-conc-'))
    const dir = join(root, 'logs')
    await generate(dir, { processes: 8000, seed: 12 })
    const db = join(root, 'c.db')
    const args = [CLI, 'ingest', dir, '--db', db, '--date', '2026-11-28', '--tz', 'UTC']
    const both = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<{ code: number | null; err: string }>((ok) => {
            const c = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
            let err = ''
            c.stderr.on('data', (b: Buffer) => (err += b.toString()))
            c.once('exit', (code) => ok({ code, err }))
          }),
      ),
    )
    expect(both.map((b) => b.code)).toEqual([0, 0])
    expect(both.some((b) => b.err.includes('waiting for tracedb pid'))).toBe(true)
    const clean = join(root, 'clean.db')
    expect(run(['ingest', dir, '--db', clean, '--date', '2026-11-28', '--tz', 'UTC']).status).toBe(0)
    const a = openStore(db)
    const b = openStore(clean)
    expect(canonicalDump(a, dir)).toEqual(canonicalDump(b, dir))
    a.close()
    b.close()
  })

  test('a corrupt database file is detected and reported', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-corrupt-'))
    const dir = join(root, 'logs')
    await generate(dir, { processes: 3000, seed: 13 })
    const db = join(root, 'x.db')
    expect(run(['ingest', dir, '--db', db, '--date', '2026-11-28', '--tz', 'UTC']).status).toBe(0)
    expect(run(['check', '--db', db]).stdout).toMatch(/: ok — 1 captures/)
    // scribble over pages in the middle of the file
    const size = statSync(db).size
    const fd = openSync(db, 'r+')
    for (let off = Math.floor(size / 3); off < size - 4096; off += 8192) writeSync(fd, Buffer.alloc(512, 0x5a), 0, 512, off)
    closeSync(fd)
    const r = run(['check', '--db', db])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/corrupt/)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  test('disk full during ingest: a clear error, and the database stays consistent', async ({ skip }) => {
    skip(!isRoot, 'needs root to mount a 3 MB tmpfs')
    const root = mkdtempSync(join(tmpdir(), 'tracedb-full-'))
    const small = join(root, 'small')
    mkdirSync(small)
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', small], { encoding: 'utf8' })
    skip(mount.status !== 0, `cannot mount a tmpfs here: ${mount.error?.message ?? (mount.stderr.trim() || `mount exited ${String(mount.status)}`)}`)
    try {
      const dir = join(root, 'logs')
      await generate(dir, { processes: 20_000, seed: 14 })
      const db = join(small, 'full.db')
      const r = run(['ingest', dir, '--db', db, '--date', '2026-11-28', '--tz', 'UTC'])
      expect(r.status).toBe(2)
      expect(r.stderr).toMatch(/cannot write the database/)
      expect(r.stderr).toMatch(/free some disk space/)
      const s = openStore(db, { readonly: true })
      try {
        expect(s.sqlite.prepare('PRAGMA quick_check').pluck().get()).toBe('ok')
        // whatever was committed is whole: every source's offset matches its lines
        const sources = s.sqlite.prepare('SELECT id, committed_lines FROM source').all() as { id: number; committed_lines: number }[]
        expect(sources.length).toBeGreaterThan(0) // or the loop below checks nothing
        for (const src of sources) {
          const n = s.sqlite.prepare('SELECT count(*) FROM log_line WHERE source_id = ? AND partial = 0').pluck().get(src.id)
          expect(n).toBe(src.committed_lines)
        }
      } finally {
        s.close()
      }
    } finally {
      spawnSync('umount', [small])
    }
  })
})
