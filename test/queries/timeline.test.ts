import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { ingest } from '../../src/ingest/ingest.js'
import { loadCatalog } from '../../src/queries/catalog.js'
import { bindParams, resolveCapture, runQuery, type Value } from '../../src/queries/run.js'
import { openStore, type Store } from '../../src/store/open.js'
import { runCli } from '../helpers/cli.js'
import { EXECSNOOP_T_U_X_HEADER, execLine } from '../helpers/logs.js'

const timeline = loadCatalog().get('timeline')!

function run(store: Store, args: string[], named: Record<string, string> = {}): Record<string, Value>[] {
  return runQuery(store, timeline, bindParams(timeline, args, named), resolveCapture(store).id).rows as Record<string, Value>[]
}

/** Python exitsnoop `--utc`: times with milliseconds (`HH:MM:SS.mmm`). */
const EXITSNOOP_PY_UTC_HEADER = 'TIME-UTC     PCOMM            PID    PPID   TID    AGE(s)  EXIT_CODE'
function pyExitLine(time: string, pid: number, ppid: number, comm: string, age: number, code = '0'): string {
  const p = (s: string | number, n: number) => String(s).padEnd(n)
  return `${p(time, 12)} ${p(comm, 16)} ${p(pid, 6)} ${p(ppid, 6)} ${p(pid, 6)} ${p(age.toFixed(2), 7)} ${code}`
}

/** libbpf `opensnoop -T`: second-precision times. */
const OPENSNOOP_T_HEADER = 'TIME     PID    COMM              FD ERR PATH'
function openLine(time: string, pid: number, comm: string, fd: number, err: number, path: string): string {
  return `${time} ${String(pid).padEnd(6)} ${comm.padEnd(16)} ${String(fd).padStart(3)} ${String(err).padStart(3)} ${path}`
}

describe('timeline: second vs millisecond precision', () => {
  // pid 100 (child of 50): forked at 12:00:01.650 (exit 01.900 - AGE 0.25),
  // exec'd at ~01.700 but execsnoop -T prints the truncated 12:00:01; it
  // opens a file (opensnoop -T, also 12:00:01) and forks 101 (exit 01.850,
  // AGE 0.05). pid 200 (child of 60, another tree) runs 01.400..01.500.
  let store: Store
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tracedb-timeline-'))
    const logs = join(dir, 'logs')
    mkdirSync(logs)
    writeFileSync(
      join(logs, 'execsnoop.log'),
      [EXECSNOOP_T_U_X_HEADER, execLine('12:00:01', 200, 60, 'other', '/usr/bin/other'), execLine('12:00:01', 100, 50, 'ls', '/usr/bin/ls -la')].join('\n') + '\n',
    )
    writeFileSync(
      join(logs, 'exitsnoop.log'),
      [
        EXITSNOOP_PY_UTC_HEADER,
        pyExitLine('12:00:01.500', 200, 60, 'other', 0.1),
        pyExitLine('12:00:01.850', 101, 100, 'ls', 0.05),
        pyExitLine('12:00:01.900', 100, 50, 'ls', 0.25, 'code 2'),
      ].join('\n') + '\n',
    )
    writeFileSync(
      join(logs, 'opensnoop.log'),
      [OPENSNOOP_T_HEADER, openLine('12:00:01', 200, 'other', 3, 0, '/etc/hosts'), openLine('12:00:01', 100, 'ls', 3, 0, '/etc/passwd')].join('\n') + '\n',
    )
    store = openStore(join(dir, 't.db'))
    const report = await ingest(store, { paths: [logs], date: '2026-11-28', tz: 'UTC', capture: 'prec' })
    expect(report.files.map((f) => [f.format, f.bad])).toEqual([
      ['execsnoop', 0],
      ['exitsnoop', 0],
      ['opensnoop', 0],
    ])
  })

  const view = (rows: Record<string, Value>[]) => rows.map((r) => [r.time_utc, r.precision, r.tool, r.pid, r.event])

  test('the tree of 50: start, exec, open, child, exit, in causal order; the other tree absent', () => {
    expect(view(run(store, ['50']))).toEqual([
      ['2026-11-28T12:00:01.650Z', 'derived', 'process', 100, 'start (fork)'],
      ['2026-11-28T12:00:01.000Z', 's', 'execsnoop', 100, 'exec /usr/bin/ls -la'],
      ['2026-11-28T12:00:01.000Z', 's', 'opensnoop', 100, 'open /etc/passwd fd=3'],
      ['2026-11-28T12:00:01.800Z', 'derived', 'process', 101, 'start (fork)'],
      ['2026-11-28T12:00:01.850Z', 'ms', 'exitsnoop', 101, 'exit code 0 after 0.05s'],
      ['2026-11-28T12:00:01.900Z', 'ms', 'exitsnoop', 100, 'exit code 2 after 0.25s'],
    ])
  })

  test('the whole capture: every tree, each process in causal order', () => {
    const rows = run(store, [])
    expect(view(rows)).toEqual([
      ['2026-11-28T12:00:01.400Z', 'derived', 'process', 200, 'start (fork)'],
      ['2026-11-28T12:00:01.000Z', 's', 'execsnoop', 200, 'exec /usr/bin/other'],
      ['2026-11-28T12:00:01.000Z', 's', 'opensnoop', 200, 'open /etc/hosts fd=3'],
      ['2026-11-28T12:00:01.500Z', 'ms', 'exitsnoop', 200, 'exit code 0 after 0.1s'],
      ['2026-11-28T12:00:01.650Z', 'derived', 'process', 100, 'start (fork)'],
      ['2026-11-28T12:00:01.000Z', 's', 'execsnoop', 100, 'exec /usr/bin/ls -la'],
      ['2026-11-28T12:00:01.000Z', 's', 'opensnoop', 100, 'open /etc/passwd fd=3'],
      ['2026-11-28T12:00:01.800Z', 'derived', 'process', 101, 'start (fork)'],
      ['2026-11-28T12:00:01.850Z', 'ms', 'exitsnoop', 101, 'exit code 0 after 0.05s'],
      ['2026-11-28T12:00:01.900Z', 'ms', 'exitsnoop', 100, 'exit code 2 after 0.25s'],
    ])
    // line_id points at the raw line; a start points at the exit line it was derived from
    const raw = store.sqlite.prepare('SELECT raw FROM log_line WHERE id = ?').pluck()
    expect(raw.get(rows[5]!.line_id)).toMatch(/^12:00:01 0 +ls +100 +50 +0 \/usr\/bin\/ls -la/)
    expect(raw.get(rows[4]!.line_id)).toMatch(/^12:00:01\.900 ls +100 +50 /)
    expect(rows[4]!.process_id).toBe(rows[9]!.process_id)
  })

  test('columns, limit, and a tree that is not in the capture', () => {
    const rows = run(store, [], { limit: '2' })
    expect(Object.keys(rows[0]!)).toEqual(['time_utc', 'precision', 'tool', 'pid', 'comm', 'process_id', 'event', 'line_id'])
    expect(rows.map((r) => r.event)).toEqual(['start (fork)', 'exec /usr/bin/other'])
    expect(run(store, ['4242'])).toEqual([])
  })

  test('tracedb query timeline PID --json', async () => {
    store.close()
    const r = await runCli('query', 'timeline', '60', '--db', join(dir, 't.db'), '--json')
    expect(r.code, r.stderr).toBe(0)
    expect((JSON.parse(r.stdout) as { event: string }[]).map((x) => x.event)).toEqual([
      'start (fork)',
      'exec /usr/bin/other',
      'open /etc/hosts fd=3',
      'exit code 0 after 0.1s',
    ])
    store = openStore(join(dir, 't.db'))
  })
})

describe('timeline: the real ssh-login capture', () => {
  const DIR = join(import.meta.dirname, '..', '..', 'examples', 'ssh-login')
  const SSHD = readFileSync(join(DIR, 'sshd.pid'), 'utf8').trim()
  let store: Store
  beforeAll(async () => {
    store = openStore(join(mkdtempSync(join(tmpdir(), 'tracedb-timeline-real-')), 'real.db'))
    await ingest(store, { paths: [DIR] })
  })

  const perTool = (rows: Record<string, Value>[]) => {
    const counts: Record<string, number> = {}
    for (const r of rows) counts[String(r.tool)] = (counts[String(r.tool)] ?? 0) + 1
    return counts
  }

  test('whole capture: every event of every tool, once', () => {
    const rows = run(store, [], { limit: '-1' })
    expect(perTool(rows)).toEqual({ process: 466, execsnoop: 851, exitsnoop: 466, tcpstates: 32, tcplife: 6 })
    expect(new Set(rows.map((r) => r.line_id)).size).toBe(rows.length - 466) // a start shares its exit's line
    // the ssh client (not below sshd) connecting
    const handshake = rows.find((r) => r.tool === 'tcpstates' && String(r.event).startsWith('tcp SYN_SENT -> ESTABLISHED'))
    expect([handshake?.pid, handshake?.comm, handshake?.event]).toEqual([
      8857,
      'ssh',
      'tcp SYN_SENT -> ESTABLISHED 127.0.0.1:54718 -> 127.0.0.1:2222 (0.218 ms)',
    ])
  })

  test('the sshd tree: first rows, counts, and per process start <= exec <= other <= exit', () => {
    const rows = run(store, [SSHD], { limit: '-1' })
    expect(perTool(rows)).toEqual({ process: 438, execsnoop: 818, exitsnoop: 438, tcpstates: 14, tcplife: 3 })
    expect(rows.slice(0, 3).map((r) => [r.time_utc, r.tool, r.pid, r.event])).toEqual([
      ['2026-11-28T06:38:03.570Z', 'process', 8858, 'start (fork)'],
      ['2026-11-28T06:38:03.630Z', 'process', 8852, 'start (fork)'],
      ['2026-11-28T06:38:03.810Z', 'process', 8859, 'start (fork)'],
    ])
    const rank = (r: Record<string, Value>) => (r.tool === 'process' ? 0 : r.tool === 'execsnoop' ? 1 : r.tool === 'exitsnoop' ? 3 : 2)
    const last = new Map<Value, number>()
    for (const r of rows) {
      if (r.process_id === null || r.process_id === undefined) continue
      const prev = last.get(r.process_id) ?? 0
      expect(rank(r), `${String(r.pid)} ${String(r.event)}`).toBeGreaterThanOrEqual(prev)
      last.set(r.process_id, rank(r))
    }
    expect(run(store, [SSHD])).toHaveLength(1000) // the default limit
  })
})
