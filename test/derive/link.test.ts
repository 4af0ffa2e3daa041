import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { instanceAt } from '../../src/derive/link.js'
import { ingest } from '../../src/ingest/ingest.js'
import { openStore } from '../../src/store/open.js'
import { EXECSNOOP_T_U_X_HEADER, EXITSNOOP_T_HEADER, execLine, exitLine } from '../helpers/logs.js'

/** Two instances of one PID: 10 (10 s .. 12 s) and 11 (from 30 s, still running). */
const spans = [
  { id: 10, start: 10_000_000, exit: 12_000_000 },
  { id: 11, start: 30_000_000 },
]

describe('instanceAt: which instance of a reused PID an event belongs to', () => {
  test.each([
    ['before every known start: the first (it was already running)', 5_000_000, 10],
    ['while the first lived', 11_000_000, 10],
    ['within the clock slack after its exit', 12_900_000, 10],
    ['after its exit, before the next start: a process the capture missed', 20_000_000, null],
    ['a second before the next start (second-precision clocks)', 29_200_000, 11],
    ['while the second lives', 40_000_000, 11],
  ])('%s', (_name, ts, want) => {
    expect(instanceAt(spans, ts)).toBe(want)
  })

  test('without a time: only a PID with one instance', () => {
    expect(instanceAt(spans, null)).toBe(null)
    expect(instanceAt([{ id: 7, start: 0 }], null)).toBe(7)
    expect(instanceAt([], 1)).toBe(null)
  })
})

describe('linking during ingest', () => {
  test('an event of a PID after its only instance exited stays unlinked; one during its life is linked', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tracedb-link-')), 'cap')
    mkdirSync(dir)
    writeFileSync(join(dir, 'execsnoop.log'), [EXECSNOOP_T_U_X_HEADER, execLine('10:00:01', 500, 1, 'job', '/usr/bin/job')].join('\n') + '\n')
    writeFileSync(join(dir, 'exitsnoop.log'), [EXITSNOOP_T_HEADER, exitLine('10:00:02.000', 500, 1, 'job', 1.2)].join('\n') + '\n')
    writeFileSync(
      join(dir, 'opensnoop.log'),
      ['TIME     PID    COMM              FD ERR PATH', '10:00:01 500    job                3   0 /etc/hostname', '10:00:20 500    other              3   0 /etc/passwd'].join('\n') + '\n',
    )
    const store = openStore(':memory:')
    try {
      await ingest(store, { paths: [dir], date: '2026-11-28', tz: 'UTC' })
      const rows = store.sqlite.prepare('SELECT path, process_id IS NOT NULL AS linked FROM opensnoop_event ORDER BY line_id').all()
      expect(rows).toEqual([
        { path: '/etc/hostname', linked: 1 },
        { path: '/etc/passwd', linked: 0 },
      ])
    } finally {
      store.close()
    }
  })
})

describe('exitsnoop per-thread rows', () => {
  test('a thread\'s exit (TID != PID) is linked to its process, so it shows in the tree', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tracedb-threads-')), 'cap')
    mkdirSync(dir)
    writeFileSync(join(dir, 'exitsnoop.log'), readFileSync(join(import.meta.dirname, '..', 'fixtures', 'exitsnoop', 'exitsnoop.libbpf-t-T.captured.log')))
    const store = openStore(':memory:')
    try {
      await ingest(store, { paths: [dir], date: '2026-11-28', tz: 'UTC' })
      const rows = store.sqlite
        .prepare('SELECT e.tid, p.pid AS instance_pid, p.seen_exit FROM exitsnoop_event e LEFT JOIN process p ON p.id = e.process_id WHERE e.pid = 14408 ORDER BY e.line_id')
        .all()
      expect(rows).toEqual([
        { tid: 14449, instance_pid: 14408, seen_exit: 1 },
        { tid: 14450, instance_pid: 14408, seen_exit: 1 },
        { tid: 14408, instance_pid: 14408, seen_exit: 1 },
      ])
    } finally {
      store.close()
    }
  })
})
