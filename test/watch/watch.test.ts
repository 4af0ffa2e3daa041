import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { generate } from '../../src/gen/generate.js'
import { ingest } from '../../src/ingest/ingest.js'
import { openStore } from '../../src/store/open.js'
import { Watcher } from '../../src/watch/watcher.js'
import { canonicalDump } from '../helpers/canonical.js'
import { CLI, requireBuiltCli } from '../helpers/dist.js'

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms))

/** Deterministic pseudo-random numbers for chunk sizes. */
function rng(seed: number) {
  let a = seed
  return () => {
    a = (a * 1103515245 + 12345) & 0x7fffffff
    return a / 0x7fffffff
  }
}

function startWatch(dir: string, db: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'watch', dir, '--db', db, '--date', '2026-11-28', '--tz', 'UTC', '-q'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let err = ''
  return new Promise((ok, fail) => {
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString()
      if (err.includes('watching')) ok(child)
    })
    child.once('exit', (code) => fail(new Error(`watch exited early (${String(code)}): ${err}`)))
  })
}

describe('tracedb watch', () => {
  test(
    'random chunks, kill -9 and restart, rotation, truncation, a late file: equals a one-shot ingest',
    async () => {
      requireBuiltCli()
      const root = mkdtempSync(join(tmpdir(), 'tracedb-watch-'))
      const source = join(root, 'source')
      const truth = await generate(source, { processes: 400, seed: 7, opensPerProcess: 1 })
      expect(truth.processes).toBeGreaterThan(300)
      const exec = readFileSync(join(source, 'execsnoop.log'))
      const exit = readFileSync(join(source, 'exitsnoop.log'))
      const opens = readFileSync(join(source, 'opensnoop.log'))
      const dir = join(root, 'logs')
      mkdirSync(dir)
      const db = join(root, 'watch.db')
      const rand = rng(11)

      // a noise file that the tool later rewrites (restarted with `>`)
      writeFileSync(join(dir, 'opensnoop.log'), opens.subarray(0, 2000))
      let child = await startWatch(dir, db)

      const exitSplit = exit.indexOf('\n', Math.floor(exit.length / 2)) + 1
      const exitHeader = exit.subarray(0, exit.indexOf('\n') + 1)
      let e = 0 // bytes of execsnoop written
      let x = 0 // bytes of exitsnoop written (first part, then the rotated-in file)
      let step = 0
      let killed = false
      let rotated = false
      let truncated = false
      while (e < exec.length || x < exit.length) {
        step++
        const n = 1 + Math.floor(rand() * 3000) // chunk sizes that split lines
        if (e < exec.length) {
          appendFileSync(join(dir, 'execsnoop.log'), exec.subarray(e, Math.min(exec.length, e + n)))
          e = Math.min(exec.length, e + n)
        }
        // exitsnoop starts late (a file that appears mid-run) and is rotated halfway
        if (step > 5 && x < exit.length) {
          const end = rotated ? Math.min(exit.length, x + n) : Math.min(exitSplit, x + n)
          appendFileSync(join(dir, 'exitsnoop.log'), exit.subarray(x, end))
          x = end
          if (!rotated && x === exitSplit) {
            renameSync(join(dir, 'exitsnoop.log'), join(dir, 'exitsnoop.log.1'))
            writeFileSync(join(dir, 'exitsnoop.log'), exitHeader)
            rotated = true
          }
        }
        if (!truncated && step === 12) {
          // truncate and rewrite: same header, different lines after it
          const h = opens.indexOf('\n') + 1
          writeFileSync(join(dir, 'opensnoop.log'), Buffer.concat([opens.subarray(0, h), opens.subarray(opens.indexOf('\n', 5000) + 1)]))
          truncated = true
        }
        if (!killed && e > exec.length * 0.4) {
          child.kill('SIGKILL')
          await new Promise((ok) => child.once('exit', ok))
          killed = true
          appendFileSync(join(dir, 'execsnoop.log'), exec.subarray(e, Math.min(exec.length, e + 5000)))
          e = Math.min(exec.length, e + 5000)
          child = await startWatch(dir, db)
        }
        await sleep(Math.floor(rand() * 15))
      }
      expect(killed && rotated && truncated).toBe(true)
      await sleep(300)
      const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)))
      child.kill('SIGINT')
      expect(await exited).toBe(0)

      const oneShotDb = join(root, 'oneshot.db')
      const one = openStore(oneShotDb)
      await ingest(one, { paths: [dir], date: '2026-11-28', tz: 'UTC' })
      const live = openStore(db)
      try {
        const a = canonicalDump(live, dir)
        const b = canonicalDump(one, dir)
        expect(Object.keys(a.lines as object).sort()).toEqual(['execsnoop.log', 'exitsnoop.log', 'exitsnoop.log.1', 'opensnoop.log'])
        const sources = live.sqlite.prepare('SELECT id, path, state, ino, committed_lines, format FROM source ORDER BY id').all()
        expect(a.lines, JSON.stringify(sources)).toEqual(b.lines)
        expect(a.records).toEqual(b.records)
        // the truncated opensnoop's first version stays, as a replaced source
        // (two when the watcher read the file between its truncation and the
        // rewrite: writeFileSync is not atomic, and a busy machine shows it)
        expect(live.sqlite.prepare("SELECT count(*) FROM source WHERE state = 'replaced'").pluck().get()).toBeGreaterThanOrEqual(1)
        expect(a.processes, JSON.stringify(sources)).toEqual(b.processes)
      } finally {
        live.close()
        one.close()
      }
    },
    120_000,
  )

  test('in-process watcher: a partial line waits for its newline; stop takes the unterminated last line', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-watch2-'))
    const dir = join(root, 'logs')
    mkdirSync(dir)
    const store = openStore(join(root, 'w.db'))
    const watcher = new Watcher(store, { dir, date: '2026-11-28', tz: 'UTC' })
    await watcher.start()
    const path = join(dir, 'exitsnoop.log')
    const count = () => Number(store.sqlite.prepare('SELECT count(*) FROM exitsnoop_event').pluck().get())
    writeFileSync(path, 'TIME(s)  PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE\n10:00:01 sh               2001    2000    2001    0.')
    const waitFor = async (cond: () => boolean) => {
      for (let i = 0; i < 200 && !cond(); i++) await sleep(10)
    }
    await waitFor(() => Number(store.sqlite.prepare('SELECT count(*) FROM log_line').pluck().get()) >= 1)
    await sleep(200)
    expect(count()).toBe(0) // the row is not complete yet
    appendFileSync(path, '50    0\n10:00:02 sh               2002    2000    2002    0.')
    await waitFor(() => count() >= 1)
    expect(count()).toBe(1)
    appendFileSync(path, '20    code 1')
    await sleep(100)
    await watcher.stop()
    expect(count()).toBe(2)
    const last = store.sqlite.prepare('SELECT partial, kind FROM log_line ORDER BY line_no DESC LIMIT 1').get()
    expect(last).toEqual({ partial: 1, kind: 'record' })
    store.close()
  })
})
