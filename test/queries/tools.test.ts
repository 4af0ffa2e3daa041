import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { ingest } from '../../src/ingest/ingest.js'
import { loadCatalog } from '../../src/queries/catalog.js'
import { bindParams, resolveCapture, runQuery, type Value } from '../../src/queries/run.js'
import { openStore, type Store } from '../../src/store/open.js'
import { BIOS, EXECS, EXITS, FDS, FILES, KILLS, OPENS, RECLAIMS, SHMS, writeToolLogs } from '../helpers/tools-capture.js'

/**
 * The per-tool queries of a process tree (io, files, reclaim, opens, signals,
 * shm, fds) on a synthetic capture, every expected row spelled out.
 *
 * The processes (execsnoop -T -U -x, exitsnoop -t; date 2026-11-28, UTC):
 *
 *   3000 bash (root, 10:00:01, never exits)
 *   ├─ 3001 dd     10:00:02 .. 10:00:06
 *   ├─ 3002 cc     10:00:03 .. 10:00:20
 *   │  └─ 3003 as  10:00:04 .. 10:00:08
 *   └─ 3005 tar    10:00:05 .. 10:00:09      (instance A of PID 3005)
 *   4000 cron (10:00:25)
 *   └─ 3005 job    10:00:30 ..               (instance B: PID 3005 reused)
 *   5000 idle (10:00:40): no events at all
 *   6000 backup (10:00:12): outside every tree above
 *   7000 watchdog: never exec'd nor exited (not a process instance), sends signals
 *
 * Each tool logs events of the tree, of both instances of PID 3005 (at times
 * only one of them was alive) and of processes outside it. Times are whole
 * seconds apart so the 1 s slack of event linking never makes them ambiguous.
 */

let dir: string
let store: Store
let captureId: number
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tracedb-tools-'))
  const logs = join(dir, 'logs')
  mkdirSync(logs)
  writeToolLogs(logs)
  store = openStore(':memory:')
  const report = await ingest(store, { paths: [logs], date: '2026-11-28', tz: 'UTC' })
  // every line of every log is a record of the expected tool
  expect(report.files.map((f) => [f.format, f.records, f.bad]).sort()).toEqual(
    [
      ['biosnoop', BIOS.length, 0],
      ['drsnoop', RECLAIMS.length, 0],
      ['execsnoop', EXECS.length, 0],
      ['exitsnoop', EXITS.length, 0],
      ['filelife', FILES.length, 0],
      ['killsnoop', KILLS.length, 0],
      ['opensnoop', OPENS.length, 0],
      ['shmsnoop', SHMS.length, 0],
      ['sofdsnoop', FDS.length, 0],
    ].sort(),
  )
  captureId = resolveCapture(store).id
})
afterAll(() => {
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

const catalog = loadCatalog()

function run(name: string, args: readonly string[], named: Record<string, string> = {}): Record<string, Value>[] {
  const q = catalog.get(name)
  if (!q) throw new Error(`no query ${name}`)
  return [...runQuery(store, q, bindParams(q, args, named), captureId).rows]
}

/** The rows as arrays of the given columns, in order. */
function table(rows: readonly Record<string, Value>[], columns: readonly string[]): Value[][] {
  return rows.map((r) => columns.map((c) => r[c] ?? null))
}

/** process.id of the instance of `pid` whose command is `comm`. */
function instance(pid: number, comm: string): number {
  const row = store.sqlite.prepare('SELECT id FROM process WHERE pid = ? AND comm = ?').all(pid, comm) as { id: number }[]
  expect(row).toHaveLength(1)
  return row[0]!.id
}

const T = (hms: string, ms = '000') => `2026-11-28T${hms}.${ms}Z`
const TOOL_QUERIES = ['io', 'files', 'reclaim', 'opens', 'signals', 'shm', 'fds'] as const

describe('the synthetic capture', () => {
  test('has the processes described above, PID 3005 twice', () => {
    const rows = store.sqlite
      .prepare(
        `SELECT p.pid, p.comm, parent.pid AS parent, p.start_ts / 1000000000 - 1795860000 AS start, p.exit_ts / 1000000000 - 1795860000 AS exit
         FROM process p LEFT JOIN process parent ON parent.id = p.parent_id
         WHERE p.inferred = 0 ORDER BY p.start_ts`,
      )
      .raw()
      .all()
    // 2026-11-28T10:00:00Z is 1795860000 s after the epoch
    expect(new Date(1795860000 * 1000).toISOString()).toBe('2026-11-28T10:00:00.000Z')
    expect(rows).toEqual([
      [3000, 'bash', 2999, 1, null],
      [3001, 'dd', 3000, 2, 6],
      [3002, 'cc', 3000, 3, 20],
      [3003, 'as', 3002, 4, 8],
      [3005, 'tar', 3000, 5, 9],
      [6000, 'backup', 1, 12, null],
      [4000, 'cron', 1, 25, null],
      [3005, 'job', 4000, 30, null],
      [5000, 'idle', 1, 40, null],
    ])
  })

  test('every tool query has a pid parameter and an optional instance', () => {
    for (const name of TOOL_QUERIES) {
      const q = catalog.get(name)!
      expect(q.params[0]).toMatchObject({ name: 'pid', type: 'integer' })
      expect(q.params.find((p) => p.name === 'instance')).toMatchObject({ type: 'integer', default: null })
    }
  })
})

describe('io', () => {
  const COLS = ['pid', 'comm', 'args', 'ios', 'reads', 'writes', 'bytes', 'avg_lat_ms', 'max_lat_ms', 'disks']
  test('one row per instance of the tree with I/O, most bytes first; FWS is a write, RA a read', () => {
    const rows = run('io', ['3000'])
    expect(table(rows, COLS)).toEqual([
      [3001, 'dd', '/bin/dd if=/dev/zero of=/tmp/x bs=1M count=2', 3, 0, 3, 2101248, 2, 3, 'vda,vdb'],
      [3003, 'as', '/usr/bin/as -o main.o /tmp/ccA1.s', 2, 2, 0, 24576, 1, 1.5, 'vda'],
      [3005, 'tar', '/bin/tar xf src.tar', 1, 1, 0, 4096, 0.25, 0.25, 'vda'],
    ])
    expect(rows.map((r) => r.id)).toEqual([instance(3001, 'dd'), instance(3003, 'as'), instance(3005, 'tar')])
  })
  test('the reused PID: the I/O of instance B is in the tree of 4000 only', () => {
    expect(table(run('io', ['4000']), COLS)).toEqual([[3005, 'job', '/usr/local/bin/job --nightly', 1, 0, 1, 65536, 5, 5, 'vda']])
  })
  test('PID 3005 as the root: both instances are roots; instance selects one', () => {
    expect(table(run('io', ['3005']), ['id', 'comm', 'bytes'])).toEqual([
      [instance(3005, 'job'), 'job', 65536],
      [instance(3005, 'tar'), 'tar', 4096],
    ])
    expect(table(run('io', ['3005', String(instance(3005, 'tar'))]), ['comm', 'bytes'])).toEqual([['tar', 4096]])
  })
  test('a subtree: only cc and its child as', () => {
    expect(table(run('io', ['3002']), ['pid', 'bytes'])).toEqual([[3003, 24576]])
  })
})

describe('files', () => {
  const COLS = ['time_utc', 'pid', 'comm', 'age_s', 'file']
  test('the short-lived files the tree deleted, in time order', () => {
    const rows = run('files', ['3000'])
    expect(table(rows, COLS)).toEqual([
      [T('10:00:05'), 3002, 'cc', 0.25, 'ccB2.o.d'],
      [T('10:00:07'), 3003, 'as', 1.5, 'ccA1 copy.s'],
      [T('10:00:08'), 3005, 'tar', 0.01, '.tar.lock'],
    ])
    expect(rows.map((r) => r.process_id)).toEqual([instance(3002, 'cc'), instance(3003, 'as'), instance(3005, 'tar')])
  })
  test('the reused PID: job.tmp belongs to instance B, in the tree of 4000', () => {
    expect(table(run('files', ['4000']), COLS)).toEqual([[T('10:00:36'), 3005, 'job', 0.75, 'job.tmp']])
  })
})

describe('reclaim', () => {
  const COLS = ['time_utc', 'pid', 'tid', 'comm', 'lat_ms', 'pages', 'free_kb']
  test('the stalls of the tree (libbpf prints TIDs: the main thread has TID = PID)', () => {
    const rows = run('reclaim', ['3000'])
    expect(table(rows, COLS)).toEqual([
      [T('10:00:04'), 3002, 3002, 'cc', 12.5, 40, 1000],
      [T('10:00:07'), 3005, 3005, 'tar', 3.25, 10, 900],
    ])
    expect(rows.map((r) => r.process_id)).toEqual([instance(3002, 'cc'), instance(3005, 'tar')])
  })
  test('the reused PID: the stall at 10:00:33 is instance B', () => {
    expect(table(run('reclaim', ['4000']), COLS)).toEqual([[T('10:00:33'), 3005, 3005, 'job', 7.75, 20, 800]])
  })
})

describe('opens', () => {
  const COLS = ['path', 'opens', 'failures', 'processes', 'first_utc']
  test('per path: opens, failures, process instances, first time; most opened first, then by path', () => {
    expect(table(run('opens', ['3000']), COLS)).toEqual([
      ['/usr/lib/locale/locale-archive', 3, 2, 2, T('10:00:04')],
      ['/etc/ld.so.cache', 2, 0, 2, T('10:00:06')],
      ['/dev/zero', 1, 0, 1, T('10:00:02')],
      ['/tmp/x', 1, 0, 1, T('10:00:02')],
      ['/work/build.sh', 1, 0, 1, T('10:00:01')],
      ['main.c', 1, 0, 1, T('10:00:03')],
    ])
  })
  test('errors 1: only the failed opens', () => {
    const expected = [['/usr/lib/locale/locale-archive', 2, 2, 2, T('10:00:04')]]
    expect(table(run('opens', ['3000', '1']), COLS)).toEqual(expected)
    expect(table(run('opens', ['3000'], { errors: '1' }), COLS)).toEqual(expected)
  })
  test('the reused PID: instance B opened ld.so.cache and failed /etc/shadow, in the tree of 4000 only', () => {
    expect(table(run('opens', ['4000']), COLS)).toEqual([
      ['/etc/ld.so.cache', 1, 0, 1, T('10:00:31')],
      ['/etc/shadow', 1, 1, 1, T('10:00:32')],
    ])
    expect(table(run('opens', ['4000', '1']), COLS)).toEqual([['/etc/shadow', 1, 1, 1, T('10:00:32')]])
  })
})

describe('signals', () => {
  const COLS = ['time_utc', 'direction', 'pid', 'comm', 'sig', 'sig_name', 'tpid', 'tcomm', 'result']
  test('sent by, received by and within the tree; the target instance is the one alive then', () => {
    const rows = run('signals', ['3000'])
    expect(table(rows, COLS)).toEqual([
      [T('10:00:07'), 'within', 3002, 'cc', 15, 'SIGTERM', 3003, null, 0],
      [T('10:00:08'), 'received', 7000, 'watchdog', 15, 'SIGTERM', 3005, null, 0],
      [T('10:00:10'), 'sent', 3000, 'bash', 9, 'SIGKILL', 6000, null, 0],
      [T('10:00:11'), 'received', 7000, 'watchdog', 1, 'SIGHUP', 3000, null, 0],
      [T('10:00:16'), 'sent', 3000, 'bash', 0, null, -3000, null, 0],
    ])
    expect(table(rows, ['sender_id', 'target_id'])).toEqual([
      [instance(3002, 'cc'), instance(3003, 'as')],
      [null, instance(3005, 'tar')],
      [instance(3000, 'bash'), instance(6000, 'backup')],
      [null, instance(3000, 'bash')],
      [instance(3000, 'bash'), null],
    ])
  })
  test('the reused PID: signals to and from instance B are in the tree of 4000 only', () => {
    expect(table(run('signals', ['4000']), COLS)).toEqual([
      [T('10:00:33'), 'received', 7000, 'watchdog', 10, 'SIGUSR1', 3005, null, 0],
      [T('10:00:34'), 'within', 3005, 'job', 0, null, 4000, null, 0],
    ])
  })
  test('a signal to a PID more than a second after its instance exited is nobody\'s', () => {
    expect(run('signals', ['3001'])).toEqual([])
  })
  test('a process outside the tree: what it sent and received', () => {
    expect(table(run('signals', ['6000']), ['time_utc', 'direction', 'pid', 'tpid'])).toEqual([
      [T('10:00:10'), 'received', 3000, 6000],
      [T('10:00:17'), 'received', 7000, 6000],
    ])
  })
})

describe('shm (no time)', () => {
  const COLS = ['time_utc', 'time_text', 'pid', 'comm', 'sys', 'ret', 'ret_value', 'shmid', 'args']
  test('the calls of the tree, in log order', () => {
    const rows = run('shm', ['3000'])
    expect(table(rows, COLS)).toEqual([
      [null, null, 3002, 'cc', 'SHMGET', '10000', 0x10000, 0x10000, 'key: 0x78020001, size: 20, shmflg: 0x3b6 (IPC_CREAT|0666)'],
      [null, null, 3003, 'as', 'SHMAT', '7f1cf8b1f000', 0x7f1cf8b1f000, 0x10000, 'shmid: 0x10000, shmaddr: 0x0, shmflg: 0x0'],
      [null, null, 3002, 'cc', 'SHMCTL', '0', 0, 0x10000, 'shmid: 0x10000, cmd: 0 (IPC_RMID), buf: 0x0'],
    ])
    expect(rows.map((r) => r.process_id)).toEqual([instance(3002, 'cc'), instance(3003, 'as'), instance(3002, 'cc')])
  })
  test('the reused PID without a time: its call cannot be attributed and is in neither tree', () => {
    expect(table(run('shm', ['4000']), ['pid', 'comm', 'sys', 'ret_value', 'shmid'])).toEqual([[4000, 'cron', 'SHMGET', 0x20001, 0x20001]])
    expect(run('shm', ['3005'])).toEqual([])
  })
})

describe('fds (no time, TIDs only)', () => {
  const COLS = ['time_utc', 'time_text', 'action', 'tid', 'comm', 'sock_fd', 'socket', 'fd', 'name']
  test('the descriptors the tree passed, in log order', () => {
    const rows = run('fds', ['3000'])
    expect(table(rows, COLS)).toEqual([
      [null, null, 'SEND', 3002, 'cc', 24, 'socket:[39763]', 5, '/tmp/ccA1 copy.s'],
      [null, null, 'RECV', 3003, 'as', 7, 'socket:[39764]', 5, null],
    ])
    expect(rows.map((r) => r.process_id)).toEqual([instance(3002, 'cc'), instance(3003, 'as')])
  })
  test('the reused PID without a time: in neither tree', () => {
    expect(table(run('fds', ['4000']), ['action', 'tid', 'comm', 'socket', 'fd'])).toEqual([['RECV', 4000, 'cron', 'socket:[5555]', 9]])
    expect(run('fds', ['3005'])).toEqual([])
  })
})

describe('a tree without events', () => {
  test.each(TOOL_QUERIES)('%s of idle (5000) is empty', (name) => {
    expect(run(name, ['5000'])).toEqual([])
  })
  test.each(TOOL_QUERIES)('%s of a PID not in the capture is empty', (name) => {
    expect(run(name, ['999999'])).toEqual([])
  })
})
