import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { exportPerfetto, type TraceEvent } from '../src/export/perfetto.js'
import { generate } from '../src/gen/generate.js'
import { ingest } from '../src/ingest/ingest.js'
import { openStore } from '../src/store/open.js'
import { runCli } from './helpers/cli.js'

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
        if (typeof e.ts !== 'number' || typeof e.dur !== 'number' || e.dur < 0 || !Number.isFinite(e.ts)) errors.push(`${where}: ts/dur`)
        break
      case 'i':
        if (typeof e.ts !== 'number' || !['t', 'p', 'g'].includes(e.s ?? '')) errors.push(`${where}: ts/s`)
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
      const trace = await exportPerfetto(store, { captureId: 1, pid: root.pid })
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
})
