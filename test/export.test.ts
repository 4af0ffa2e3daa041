import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { exportPerfetto, type TraceEvent } from '../src/export/perfetto.js'
import { generate } from '../src/gen/generate.js'
import { ingest } from '../src/ingest/ingest.js'
import { openStore } from '../src/store/open.js'
import { sqliteReader } from '../src/store/reader.js'
import { runCli } from './helpers/cli.js'
import { EXECSNOOP_T_U_X_HEADER, EXITSNOOP_T_HEADER, execLine, exitLine } from './helpers/logs.js'

/** The Chrome trace-event format's rules for the phases tracedb writes. */
function validate(events: readonly TraceEvent[]): string[] {
  const errors: string[] = []
  events.forEach((e, i) => {
    const where = `event ${String(i)} (${e.ph} ${e.name})`
    if (typeof e.name !== 'string' || e.name === '') errors.push(`${where}: name`)
    if (!Number.isInteger(e.pid) || !Number.isInteger(e.tid)) errors.push(`${where}: pid/tid must be integers`)
    switch (e.ph) {
      case 'M':
        if (!['process_name', 'process_sort_index', 'thread_name'].includes(e.name)) errors.push(`${where}: unknown metadata`)
        if (!e.args || (e.name.endsWith('_name') ? typeof e.args.name !== 'string' : typeof e.args.sort_index !== 'number')) errors.push(`${where}: args`)
        break
      case 'X':
        if (typeof e.ts !== 'number' || typeof e.dur !== 'number' || e.dur < 0 || !Number.isFinite(e.ts) || e.ts < 0) errors.push(`${where}: ts/dur`)
        break
      case 'i':
        if (typeof e.ts !== 'number' || e.ts < 0 || !['t', 'p', 'g'].includes(e.s ?? '')) errors.push(`${where}: ts/s`)
        break
      default:
        errors.push(`${where}: phase`)
    }
  })
  return errors
}

const SSH = join(import.meta.dirname, 'fixtures', 'captures', 'ssh-login')

describe('perfetto export', () => {
  test('the real ssh-login capture exports as valid trace-event JSON, one track per process instance', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracedb-export-'))
    const db = join(dir, 'e.db')
    expect((await runCli('ingest', SSH, '--db', db)).code).toBe(0)
    const sshd = readFileSync(join(SSH, 'sshd.pid'), 'utf8').trim()
    const out = join(dir, 'trace.json')
    const r = await runCli('export', sshd, '--db', db, '--out', out)
    expect(r.code, r.stderr).toBe(0)
    const trace = JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: TraceEvent[]; metadata: { processes: number } }
    expect(validate(trace.traceEvents)).toEqual([])
    expect(trace.metadata.processes).toBe(438) // sshd and its 437 descendants
    const slices = trace.traceEvents.filter((e) => e.ph === 'X')
    expect(new Set(slices.map((e) => e.pid)).size).toBe(438)
    const names = trace.traceEvents.filter((e) => e.name === 'process_name').map((e) => String(e.args?.name))
    expect(names[0]).toMatch(/^sshd 8852 /)
    expect(trace.traceEvents.some((e) => e.name.startsWith('exec /usr/bin/run-parts'))).toBe(true)
    expect(trace.traceEvents.some((e) => e.name.startsWith('exit code 255'))).toBe(true)
  })

  test('reused PIDs get distinct tracks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracedb-export2-'))
    const truth = await generate(join(dir, 'logs'), { processes: 3000, pidMax: 2000, seed: 21 })
    const store = openStore(join(dir, 'x.db'))
    try {
      await ingest(store, { paths: [join(dir, 'logs')], date: truth.date, tz: 'UTC' })
      const root = truth.roots.find((x) => x.name === 'sshd')!
      const trace = await exportPerfetto(sqliteReader(store), { captureId: 1, pid: root.pid })
      expect(validate(trace.traceEvents)).toEqual([])
      const slices = trace.traceEvents.filter((e) => e.ph === 'X')
      const tracks = new Set(slices.map((e) => e.pid))
      const pids = slices.map((e) => e.args?.pid as number)
      expect(tracks.size).toBe(slices.length)
      expect(new Set(pids).size).toBeLessThan(pids.length) // some PIDs appear on several tracks
    } finally {
      store.close()
    }
  })

  test('an unknown PID is a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracedb-export3-'))
    const db = join(dir, 'e.db')
    await runCli('ingest', SSH, '--db', db)
    const r = await runCli('export', '99999', '--db', db)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/no process with PID 99999/)
  })

  test('a reused PID: each exec on its own instance\'s track, every instance drawn once, no negative times', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tracedb-export-reuse-')), 'cap')
    mkdirSync(dir)
    writeFileSync(
      join(dir, 'execsnoop.log'),
      [
        EXECSNOOP_T_U_X_HEADER,
        execLine('10:00:01', 100, 1, 'root', '/usr/bin/root'),
        execLine('10:00:02', 200, 100, 'first', '/usr/bin/first'),
        execLine('10:00:20', 200, 100, 'second', '/usr/bin/second'),
        execLine('10:00:21', 300, 200, 'third', '/usr/bin/third'),
      ].join('\n') + '\n',
    )
    writeFileSync(
      join(dir, 'exitsnoop.log'),
      [
        EXITSNOOP_T_HEADER,
        // the exec printed at 10:00:02 belongs to a process that exited at 10:00:02.300 after 0.30 s
        exitLine('10:00:02.300', 200, 100, 'first', 0.3),
        exitLine('10:00:22.000', 300, 200, 'third', 0.9),
        exitLine('10:00:23.000', 200, 100, 'second', 3.2),
      ].join('\n') + '\n',
    )
    const store = openStore(':memory:')
    try {
      await ingest(store, { paths: [dir], date: '2026-11-28', tz: 'UTC' })
      const captureId = store.sqlite.prepare('SELECT id FROM capture').pluck().get() as number
      const trace = await exportPerfetto(sqliteReader(store), { captureId, pid: 100 })
      expect(validate(trace.traceEvents)).toEqual([])
      const names = new Map(trace.traceEvents.filter((e) => e.name === 'process_name').map((e) => [e.pid, String(e.args?.name)]))
      expect([...names.values()].map((n) => n.split('  ')[0])).toEqual(['root 100', 'first 200', 'second 200', 'third 300'])
      const execs = trace.traceEvents.filter((e) => e.cat === 'execsnoop').map((e) => [e.name, names.get(e.pid)?.split('  ')[0]])
      expect(execs).toEqual(
        expect.arrayContaining([
          ['exec /usr/bin/first', 'first 200'],
          ['exec /usr/bin/second', 'second 200'],
          ['exec /usr/bin/third', 'third 300'],
        ]),
      )
      expect(Math.min(...trace.traceEvents.filter((e) => e.ts !== undefined).map((e) => e.ts!))).toBe(0)
    } finally {
      store.close()
    }
  })
})
