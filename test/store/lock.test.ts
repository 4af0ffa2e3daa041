import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, test } from 'vitest'
import { acquireWriterLock } from '../../src/store/lock.js'

// Child processes run the built lock (dist/), as the CLI does.
const LOCK_JS = join(import.meta.dirname, '..', '..', 'dist', 'store', 'lock.js')

/**
 * A child that takes the lock `rounds` times; each time it appends
 * `enter PID` to the log, says `acquired`, then either holds the lock until
 * it is killed (`hold`) or appends `leave PID` and releases it (`cycle`) or
 * kills itself with SIGKILL without releasing it (`crash`).
 */
const CHILD = `
import { appendFileSync } from 'node:fs'
const [lockUrl, db, log, mode, rounds] = process.argv.slice(1)
const { acquireWriterLock } = await import(lockUrl)
for (let i = 0; i < Number(rounds); i++) {
  const lock = await acquireWriterLock(db, { waitMs: 120000, onWait: (pid) => process.stdout.write('waiting ' + pid + '\\n') })
  appendFileSync(log, 'enter ' + process.pid + '\\n')
  process.stdout.write('acquired\\n')
  if (mode === 'hold') await new Promise(() => setInterval(() => undefined, 1000))
  await new Promise((ok) => setTimeout(ok, mode === 'crash' ? 50 : 2))
  appendFileSync(log, 'leave ' + process.pid + '\\n')
  // a writer that dies without releasing leaves the lock to be taken over
  if (mode === 'crash') process.kill(process.pid, 'SIGKILL')
  lock.release()
}
`

interface Child {
  readonly proc: ChildProcess
  readonly lines: string[]
  readonly exited: Promise<number | null>
}

function startChild(db: string, log: string, mode: 'hold' | 'cycle' | 'crash', rounds: number): Child {
  const proc = spawn(
    process.execPath,
    ['--input-type=module', '-e', CHILD, pathToFileURL(LOCK_JS).href, db, log, mode, String(rounds)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const lines: string[] = []
  let buffered = ''
  proc.stdout?.on('data', (b: Buffer) => {
    buffered += b.toString()
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    lines.push(...parts)
  })
  const exited = new Promise<number | null>((ok) => proc.once('exit', (code) => ok(code)))
  return { proc, lines, exited }
}

async function until(what: string, ready: () => boolean): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (ready()) return
    await new Promise((ok) => setTimeout(ok, 50))
  }
  throw new Error(`gave up waiting for: ${what}`)
}

/** The log's enter/leave pairs never overlap: one holder at a time. */
function expectOneHolderAtATime(log: string, killed: ReadonlySet<number> = new Set()): number {
  let holder: number | undefined
  let entries = 0
  for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
    const [what, pidText] = line.split(' ')
    const pid = Number(pidText)
    if (what === 'enter') {
      // a holder killed inside its critical section never writes `leave`
      if (holder !== undefined && !killed.has(holder)) throw new Error(`pid ${String(pid)} entered while ${String(holder)} held the lock`)
      holder = pid
      entries++
    } else {
      expect(holder, `leave by ${String(pid)}`).toBe(pid)
      holder = undefined
    }
  }
  return entries
}

describe('writer lock in one process', () => {
  test('a second writer waits, is told who holds the lock, and fails clearly when it runs out of time', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'tracedb-lock-')), 'a.db')
    const first = await acquireWriterLock(db)
    const waitedFor: number[] = []
    await expect(acquireWriterLock(db, { waitMs: 300, onWait: (pid) => waitedFor.push(pid) })).rejects.toThrow(
      `another tracedb (pid ${String(process.pid)}) is writing to "${db}"`,
    )
    expect(waitedFor).toEqual([process.pid])
    first.release()
    const second = await acquireWriterLock(db, { waitMs: 0 })
    second.release()
    second.release() // twice is harmless
  })

  test('a lock file that is not a tracedb lock is reported, not deleted', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'tracedb-lock-')), 'b.db')
    writeFileSync(`${db}.lock`, 'this is no lock database '.repeat(50))
    await expect(acquireWriterLock(db, { waitMs: 0 })).rejects.toThrow(/not a tracedb lock/)
    expect(readFileSync(`${db}.lock`, 'utf8')).toMatch(/^this is no lock database/)
  })
})

describe.skipIf(!existsSync(LOCK_JS))('writer lock across processes (needs dist/: npm run build)', () => {
  test('holders killed with SIGKILL are taken over, one waiter at a time, never two holders', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-lock-kill-'))
    const db = join(root, 'k.db')
    const log = join(root, 'log')
    const first = startChild(db, log, 'hold', 1)
    await until('the first holder', () => first.lines.includes('acquired'))
    const waiters = Array.from({ length: 6 }, () => startChild(db, log, 'hold', 1))
    await until('every waiter to name the holder', () =>
      waiters.every((w) => w.lines.includes(`waiting ${String(first.proc.pid)}`)),
    )
    const killed = new Set<number>()
    let holder = first
    for (;;) {
      holder.proc.kill('SIGKILL')
      await holder.exited
      killed.add(holder.proc.pid ?? 0)
      const left = waiters.filter((w) => !killed.has(w.proc.pid ?? 0))
      if (left.length === 0) break
      await until('a waiter to take the lock over', () => left.some((w) => w.lines.includes('acquired')))
      // give a second (wrong) holder the chance to show up before checking
      await new Promise((ok) => setTimeout(ok, 400))
      const holding = left.filter((w) => w.lines.includes('acquired'))
      expect(holding.map((w) => w.proc.pid)).toHaveLength(1)
      holder = holding[0]!
    }
    expect(expectOneHolderAtATime(log, killed)).toBe(7)
  })

  test('writers dying with SIGKILL while many wait: each dead lock is taken over by exactly one', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-lock-crash-'))
    const db = join(root, 'c.db')
    const log = join(root, 'log')
    const children = Array.from({ length: 12 }, () => startChild(db, log, 'crash', 1))
    await Promise.all(children.map((c) => c.exited))
    expect(children.map((c) => c.lines.filter((l) => l === 'acquired').length)).toEqual(children.map(() => 1))
    expect(expectOneHolderAtATime(log)).toBe(12)
  })

  test('several processes taking and releasing the lock in a loop: one holder at a time, nobody starves', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-lock-race-'))
    const db = join(root, 'r.db')
    const log = join(root, 'log')
    const children = Array.from({ length: 6 }, () => startChild(db, log, 'cycle', 8))
    const codes = await Promise.all(children.map((c) => c.exited))
    expect(codes).toEqual(children.map(() => 0))
    expect(expectOneHolderAtATime(log)).toBe(6 * 8)
  })
})
