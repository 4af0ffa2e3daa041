import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { ingest } from '../../src/ingest/ingest.js'
import { openStore, type Store } from '../../src/store/open.js'
import { EXECSNOOP_T_U_X_HEADER, EXITSNOOP_T_HEADER, execLine, exitLine } from '../helpers/logs.js'

/** Where the incremental rule must be right: each case once in one pass and once file by file, line by line. */

const OPENSNOOP_HEADER = 'TIME     PID    COMM              FD ERR PATH'
const openLine = (time: string, pid: number, comm: string, path: string): string =>
  `${time.padEnd(8)} ${String(pid).padEnd(6)} ${comm.padEnd(16)}   3   0 ${path}`

interface Logs {
  readonly exec?: readonly string[]
  readonly exit?: readonly string[]
  readonly open?: readonly string[]
}

function dirOf(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'tracedb-rules-')), 'cap')
  mkdirSync(dir)
  return dir
}

const FILES = { exec: ['execsnoop.log', EXECSNOOP_T_U_X_HEADER], exit: ['exitsnoop.log', EXITSNOOP_T_HEADER], open: ['opensnoop.log', OPENSNOOP_HEADER] } as const

async function ingestAll(store: Store, dir: string): Promise<void> {
  await ingest(store, { paths: [dir], capture: 'cap', date: '2026-11-28', tz: 'UTC' })
}

/** All files at once. */
async function oneShot(logs: Logs): Promise<Store> {
  const dir = dirOf()
  for (const [key, [name, header]] of Object.entries(FILES)) {
    const lines = logs[key as keyof Logs]
    if (lines) writeFileSync(join(dir, name), [header, ...lines].join('\n') + '\n')
  }
  const store = openStore(':memory:')
  await ingestAll(store, dir)
  return store
}

/** Files in the given order, each line appended and ingested on its own. */
async function lineByLine(logs: Logs, order: readonly (keyof Logs)[]): Promise<Store> {
  const dir = dirOf()
  const store = openStore(':memory:')
  for (const key of order) {
    const [name, header] = FILES[key]
    writeFileSync(join(dir, name), header + '\n')
    for (const line of logs[key] ?? []) {
      appendFileSync(join(dir, name), line + '\n')
      await ingestAll(store, dir)
    }
  }
  return store
}

const processes = (store: Store): unknown[] =>
  store.sqlite
    .prepare(
      `SELECT p.pid, p.exec_count, p.fork_only, p.inferred, p.args, parent.pid AS parent_pid, parent.inferred AS parent_inferred
       FROM process p LEFT JOIN process parent ON parent.id = p.parent_id ORDER BY p.pid, p.start_ts`,
    )
    .all()

describe('PID reuse with second-precision times', () => {
  // PID 500 exits at 10:00:01.000 (AGE 0.70); a new PID 500 forks at
  // 10:00:01.300 (exit 10:00:04.000, AGE 2.70) and execs at "10:00:01"
  const logs: Logs = {
    exec: [execLine('10:00:00', 500, 1, 'first', '/bin/first'), execLine('10:00:01', 500, 1, 'second', '/bin/second')],
    exit: [exitLine('10:00:01.000', 500, 1, 'first', 0.7), exitLine('10:00:04.000', 500, 1, 'second', 2.7)],
  }
  const want = [
    { pid: 500, exec_count: 1, fork_only: 0, inferred: 0, args: '/bin/first', parent_pid: 1, parent_inferred: 1 },
    { pid: 500, exec_count: 1, fork_only: 0, inferred: 0, args: '/bin/second', parent_pid: 1, parent_inferred: 1 },
  ]
  test('the exec printed "10:00:01" belongs to the instance alive in that second, not to the one that exited at its start', async () => {
    expect(processes(await oneShot(logs)).filter((p) => (p as { pid: number }).pid === 500)).toEqual(want)
  })
  test('the same, line by line, exits first', async () => {
    expect(processes(await lineByLine(logs, ['exit', 'exec'])).filter((p) => (p as { pid: number }).pid === 500)).toEqual(want)
  })
})

describe('a placeholder parent is replaced when its real instance arrives', () => {
  // 700 forked 701 without exec (seen only at its exit, written last)
  const logs: Logs = {
    exec: [execLine('10:00:02', 702, 701, 'child', '/bin/child')],
    exit: [exitLine('10:00:03.000', 702, 701, 'child', 1.0), exitLine('10:00:05.000', 701, 700, 'worker', 4.5)],
  }
  test('children move from the placeholder to the real instance, and the placeholder goes', async () => {
    const store = await lineByLine({ exec: logs.exec ?? [] }, ['exec'])
    expect(processes(store)).toEqual([
      { pid: 701, exec_count: 0, fork_only: 0, inferred: 1, args: null, parent_pid: null, parent_inferred: null },
      { pid: 702, exec_count: 1, fork_only: 0, inferred: 0, args: '/bin/child', parent_pid: 701, parent_inferred: 1 },
    ])
    const dir = dirOf()
    writeFileSync(join(dir, 'exitsnoop.log'), [EXITSNOOP_T_HEADER, ...logs.exit!].join('\n') + '\n')
    await ingest(store, { paths: [dir], capture: 'cap', date: '2026-11-28', tz: 'UTC' })
    const rows = processes(store)
    expect(rows).toEqual([
      { pid: 700, exec_count: 0, fork_only: 0, inferred: 1, args: null, parent_pid: null, parent_inferred: null },
      { pid: 701, exec_count: 0, fork_only: 1, inferred: 0, args: null, parent_pid: 700, parent_inferred: 1 },
      { pid: 702, exec_count: 1, fork_only: 0, inferred: 0, args: '/bin/child', parent_pid: 701, parent_inferred: 0 },
    ])
    expect(rows).toEqual(processes(await oneShot(logs)))
  })
})

describe('an event that arrives before its process', () => {
  const logs: Logs = {
    open: [openLine('10:00:01', 900, 'job', '/etc/hostname')],
    exec: [execLine('10:00:00', 900, 1, 'job', '/usr/bin/job')],
    exit: [exitLine('10:00:02.000', 900, 1, 'job', 1.5)],
  }
  const linked = (store: Store): unknown =>
    store.sqlite.prepare('SELECT e.path, p.pid, p.args FROM opensnoop_event e LEFT JOIN process p ON p.id = e.process_id').all()
  test('is linked once the instance exists, whichever file comes first', async () => {
    const want = [{ path: '/etc/hostname', pid: 900, args: '/usr/bin/job' }]
    expect(linked(await oneShot(logs))).toEqual(want)
    expect(linked(await lineByLine(logs, ['open', 'exit', 'exec']))).toEqual(want)
    expect(linked(await lineByLine(logs, ['open', 'exec', 'exit']))).toEqual(want)
  })
})

describe('stable identities', () => {
  const ids = (store: Store): unknown[] => store.sqlite.prepare('SELECT id, pid, start_ts FROM process ORDER BY id').raw().all()

  test('re-ingesting capture A after capture B, a late exit, and a new instance that sorts earlier move no id', async () => {
    const store = openStore(':memory:')
    const a = dirOf()
    writeFileSync(
      join(a, 'execsnoop.log'),
      [EXECSNOOP_T_U_X_HEADER, execLine('10:00:05', 10, 1, 'a', '/bin/a'), execLine('10:00:06', 11, 10, 'b', '/bin/b')].join('\n') + '\n',
    )
    await ingest(store, { paths: [a], capture: 'A', date: '2026-11-28', tz: 'UTC' })
    const before = ids(store)
    const b = dirOf()
    writeFileSync(join(b, 'execsnoop.log'), [EXECSNOOP_T_U_X_HEADER, execLine('09:00:00', 10, 1, 'x', '/bin/x')].join('\n') + '\n')
    await ingest(store, { paths: [b], capture: 'B', date: '2026-11-28', tz: 'UTC' })
    await ingest(store, { paths: [a], capture: 'A', date: '2026-11-28', tz: 'UTC' })
    expect(ids(store).slice(0, before.length)).toEqual(before)

    // a late exit of 11 closes its instance; a fork-only 12 that started before everything appears
    const idOf11 = store.sqlite.prepare("SELECT p.id FROM process p JOIN capture c ON c.id = p.capture_id WHERE c.name = 'A' AND pid = 11").pluck().get()
    writeFileSync(
      join(a, 'exitsnoop.log'),
      [EXITSNOOP_T_HEADER, exitLine('10:00:07.000', 11, 10, 'b', 1.5), exitLine('10:00:08.000', 12, 10, 'early', 7.9)].join('\n') + '\n',
    )
    await ingest(store, { paths: [a], capture: 'A', date: '2026-11-28', tz: 'UTC' })
    expect(store.sqlite.prepare('SELECT id, seen_exit FROM process WHERE id = ?').get(idOf11)).toEqual({ id: idOf11, seen_exit: 1 })
    const after = ids(store) as [number, number, number][]
    for (const row of before as [number, number, number][]) expect(after.some((r) => r[0] === row[0] && r[1] === row[1])).toBe(true)
  })
})

describe('several tcpstates files of one capture', () => {
  const HEADER = 'TIME(s)  SKADDR           PID     COMM       LADDR           LPORT RADDR           RPORT OLDSTATE    -> NEWSTATE    MS'
  const row = (time: string, from: string, to: string, ms: string, rport = 50000): string =>
    `${time} ffff888102e18000 ${'900'.padEnd(7)} ${'sshd'.padEnd(10)} ${'127.0.0.1'.padEnd(15)} ${'2222'.padEnd(5)} ${'127.0.0.1'.padEnd(15)} ${String(rport).padEnd(5)} ${from.padEnd(11)} -> ${to.padEnd(11)} ${ms}`
  test('are chained in time order: a connection that spans a restart of the tool is one connection', async () => {
    // the tool was restarted mid-connection: the older file was renamed to
    // tcpstates.log.1, which sorts after tcpstates.log
    const dir = dirOf()
    writeFileSync(
      join(dir, 'tcpstates.log.1'),
      [HEADER, row('10:00:01', 'LISTEN', 'SYN_RECV', '0.000'), row('10:00:01', 'SYN_RECV', 'ESTABLISHED', '0.015')].join('\n') + '\n',
    )
    writeFileSync(
      join(dir, 'tcpstates.log'),
      [HEADER, row('10:00:05', 'ESTABLISHED', 'CLOSE_WAIT', '4000.000'), row('10:00:05', 'CLOSE_WAIT', 'LAST_ACK', '0.100'), row('10:00:05', 'LAST_ACK', 'CLOSE', '0.050')].join('\n') + '\n',
    )
    const store = openStore(':memory:')
    await ingestAll(store, dir)
    expect(store.sqlite.prepare('SELECT side, states, handshake_ms, complete FROM tcp_connection').all()).toEqual([
      { side: 'server', states: 'LISTEN>SYN_RECV>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE', handshake_ms: 0.015, complete: 1 },
    ])
  })
})

describe('records changed after they were derived', () => {
  const args = (store: Store, pid: number): unknown =>
    store.sqlite.prepare('SELECT args, exec_count FROM process WHERE pid = ?').get(pid)

  test('a continuation line that arrives in a later batch reaches the process row', async () => {
    const dir = dirOf()
    const log = join(dir, 'execsnoop.log')
    writeFileSync(log, [EXECSNOOP_T_U_X_HEADER, execLine('10:00:01', 3005, 1, 'printf', '/usr/bin/printf a')].join('\n') + '\n')
    const store = openStore(':memory:')
    await ingestAll(store, dir)
    expect(args(store, 3005)).toEqual({ args: '/usr/bin/printf a', exec_count: 1 })
    appendFileSync(log, 'b and more\n')
    await ingestAll(store, dir)
    expect(args(store, 3005)).toEqual({ args: '/usr/bin/printf a\nb and more', exec_count: 1 })
  })

  test('a last line taken without its newline is read again when it completes, and derived again', async () => {
    const dir = dirOf()
    const log = join(dir, 'execsnoop.log')
    const line = execLine('10:00:02', 4242, 1, 'job', '/usr/bin/job --long-option')
    // the line is cut inside its arguments: a record with `--l` now, the whole option once complete
    const cut = line.indexOf('--long') + 3
    writeFileSync(log, [EXECSNOOP_T_U_X_HEADER, execLine('10:00:01', 4000, 1, 'first', '/bin/first'), line.slice(0, cut)].join('\n'))
    const store = openStore(':memory:')
    await ingestAll(store, dir)
    appendFileSync(log, line.slice(cut) + '\n')
    await ingestAll(store, dir)
    const rows = store.sqlite.prepare('SELECT pid, args FROM process WHERE inferred = 0 ORDER BY pid').all()
    expect(rows).toEqual([
      { pid: 4000, args: '/bin/first' },
      { pid: 4242, args: '/usr/bin/job --long-option' },
    ])
    expect(store.sqlite.prepare('SELECT count(*) FROM execsnoop_event WHERE process_id IS NULL').pluck().get()).toBe(0)
  })
})
