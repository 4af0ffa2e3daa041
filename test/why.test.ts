import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { ingest } from '../src/ingest/ingest.js'
import { loadCatalog } from '../src/queries/catalog.js'
import { bindParams, resolveCapture, runQuery, type Value } from '../src/queries/run.js'
import { openStore, type Store } from '../src/store/open.js'
import { openReader } from '../src/store/reader.js'
import { why, type WhyResult } from '../src/why/index.js'
import { readableCommand, renderWhy } from '../src/why/render.js'
import { matchSubtrees } from '../src/why/vs.js'
import { runCli } from './helpers/cli.js'
import { EXECSNOOP_T_U_X_HEADER, EXITSNOOP_T_HEADER, execLine, exitLine } from './helpers/logs.js'

/**
 * A small capture whose split is computed by hand (times in seconds after
 * 10:00:00; exitsnoop's exit time minus AGE gives each start):
 *
 * - 100 `server` is never seen itself, only as its sessions' parent: it
 *   started before the capture, so its direct children are the sessions.
 * - session 200 (fork of server), [1.000, 2.000] = 1000 ms:
 *   - 201 prep       [1.100, 1.300]  200 ms
 *   - 202 sh -c work [1.400, 1.900]  500 ms, whose children are
 *     - 203 step     [1.450, 1.600]  150 ms
 *     - 204 step     [1.650, 1.850]  200 ms
 *     - 205 late     [1.850, 1.950]  100 ms (outlives its parent by 50 ms)
 *   sh's subtree covers [1.400, 1.950] = 550 ms (55%), prep 200 ms (20%);
 *   server 200 alone: 1000 - (200 + 550) = 250 ms.
 *   critical path: 200 (1000) -> 202 (550) -> 204 (200 of sh's 500: 40%).
 *   self time (lifetime minus its children's lifetimes, not their subtrees):
 *   200 1000 - 700 = 300, 201 200, 204 200, 203 150, 202 500 - 400 = 100,
 *   205 100. repeats: /usr/bin/step x2, 350 ms, longest 200.
 *   runqslower: 203 waited 1500 us, 204 500 + 250 us: 2.25 ms in 3 waits.
 * - session 300 (fork of server), [2.500, 4.000] = 1500 ms:
 *   - 301 x: exec'd at 10:00:03, no exit seen: [3.000, session end 4.000] = 1000 ms
 *   - 302, 303: forks of server without exec, [2.800, 3.000] and [3.300, 3.500]
 *   x covers 1000 ms (67%); 300 alone: 1500 - 1200 = 300 ms.
 */
function syntheticCapture(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'tracedb-why-')), 'cap')
  mkdirSync(dir)
  writeFileSync(
    join(dir, 'execsnoop.log'),
    [
      EXECSNOOP_T_U_X_HEADER,
      execLine('10:00:01', 201, 200, 'prep', '/usr/bin/prep'),
      execLine('10:00:01', 202, 200, 'sh', '/bin/sh -c work'),
      execLine('10:00:01', 203, 202, 'step', '/usr/bin/step 1'),
      execLine('10:00:01', 204, 202, 'step', '/usr/bin/step 2'),
      execLine('10:00:01', 205, 202, 'late', '/usr/bin/late'),
      execLine('10:00:03', 301, 300, 'x', '/usr/bin/x'),
      // a server whose per-connection program is another executable (like sshd-session)
      execLine('10:00:02', 400, 1, 'srv', '/usr/sbin/srv'),
      execLine('10:00:02', 401, 400, 'srv-session', '/usr/lib/srv-session -R'),
      execLine('10:00:02', 402, 400, 'srv-session', '/usr/lib/srv-session -R'),
      execLine('10:00:02', 403, 401, 'sh', '/bin/sh'),
      execLine('10:00:02', 404, 402, 'sh', '/bin/sh'),
    ].join('\n') + '\n',
  )
  writeFileSync(
    join(dir, 'exitsnoop.log'),
    [
      EXITSNOOP_T_HEADER,
      exitLine('10:00:01.300', 201, 200, 'prep', 0.2),
      exitLine('10:00:01.600', 203, 202, 'step', 0.15),
      exitLine('10:00:01.850', 204, 202, 'step', 0.2),
      exitLine('10:00:01.900', 202, 200, 'sh', 0.5),
      exitLine('10:00:01.950', 205, 1, 'late', 0.1),
      exitLine('10:00:02.000', 200, 100, 'server', 1.0),
      exitLine('10:00:03.000', 302, 300, 'server', 0.2),
      exitLine('10:00:03.500', 303, 300, 'server', 0.2),
      exitLine('10:00:04.000', 300, 100, 'server', 1.5),
      exitLine('10:00:02.500', 403, 401, 'sh', 0.2),
      exitLine('10:00:02.600', 401, 400, 'srv-session', 0.5),
      exitLine('10:00:03.000', 404, 402, 'sh', 0.2),
      exitLine('10:00:03.100', 402, 400, 'srv-session', 0.5),
      exitLine('10:00:03.500', 400, 1, 'srv', 1.5),
    ].join('\n') + '\n',
  )
  writeFileSync(
    join(dir, 'runqslower.log'),
    [
      'Tracing run queue latency higher than 100 us',
      'TIME     COMM             TID           LAT(us)',
      '10:00:01 step             203              1500',
      '10:00:01 step             204               500',
      '10:00:01 step             204               250',
    ].join('\n') + '\n',
  )
  return dir
}

type Row = Record<string, Value>

let store: Store
let db: string
let result: WhyResult
beforeAll(async () => {
  const dir = syntheticCapture()
  db = join(dir, '..', 'why.db')
  store = openStore(db)
  const report = await ingest(store, { paths: [dir], date: '2026-11-28', tz: 'UTC' })
  expect(report.files.map((f) => [f.format, f.bad])).toEqual([
    ['execsnoop', 0],
    ['exitsnoop', 0],
    ['runqslower', 0],
  ])
  store.close()
  store = openStore(db, { readonly: true })
  const reader = await openReader(db)
  try {
    result = await why(reader, { pid: 100 })
  } finally {
    await reader.close()
  }
})

const run = (name: string, ...args: string[]): Row[] => {
  const q = loadCatalog().get(name)!
  return runQuery(store, q, bindParams(q, args), resolveCapture(store).id).rows as Row[]
}

describe('named queries on a capture computed by hand', () => {
  test('time-split: subtrees ranked by the wall time they cover, the session alone, shares', () => {
    const rows = run('time-split', '100').filter((r) => r.session_pid === 200)
    expect(rows.map((r) => [r.kind, r.rank, r.pid, r.ms, r.share, r.processes])).toEqual([
      ['session', null, 200, 1000, 1, 6],
      ['subtree', 1, 202, 550, 0.55, 4],
      ['subtree', 2, 201, 200, 0.2, 1],
      ['itself', null, 200, 250, 0.25, 1],
    ])
    const s300 = run('time-split', '100').filter((r) => r.session_pid === 300)
    // x has no exit: it counts to its session's end
    expect(s300.map((r) => [r.kind, r.pid, r.ms])).toEqual([
      ['session', 300, 1500],
      ['subtree', 301, 1000],
      ['subtree', 302, 200],
      ['subtree', 303, 200],
      ['itself', 300, 300],
    ])
    expect(s300[1]?.exit_known).toBe(0)
  })

  test('time-split: the root started before the capture, its sessions grouped by command', () => {
    const root = run('time-split', '100').filter((r) => r.level === 0)
    expect(root[0]).toMatchObject({ kind: 'session', pid: 100, start_known: 0, exit_known: 0 })
    // sessions 1000 + 1500 ms; subtrees by command name, summed over the sessions
    expect(root.filter((r) => r.kind === 'across').map((r) => [r.comm, r.ms, r.of_ms, r.share, r.sessions])).toEqual([
      ['x', 1000, 2500, 0.4, 1],
      ['sh', 550, 2500, 0.22, 1],
      ['server', 400, 2500, 0.16, 1],
      ['prep', 200, 2500, 0.08, 1],
    ])
  })

  test('critical-path: the child covering most of its parent, down to the leaf', () => {
    const rows = run('critical-path', '100').filter((r) => r.session_pid === 200)
    expect(rows.map((r) => [r.step, r.pid, r.ms, r.of_parent])).toEqual([
      [0, 200, 1000, 1],
      [1, 202, 550, 0.55],
      [2, 204, 200, 0.4],
    ])
  })

  test('self-time: lifetime minus the union of the children, largest first', () => {
    const rows = run('self-time', '100').filter((r) => r.session_pid === 200)
    expect(rows.map((r) => [r.pid, r.ms, r.lifetime_ms, r.children_ms])).toEqual([
      [200, 300, 1000, 700],
      [201, 200, 200, 0],
      [204, 200, 200, 0],
      [203, 150, 150, 0],
      [202, 100, 500, 400],
      [205, 100, 100, 0],
    ])
  })

  test('repeats: the same executable grouped, forks by command name', () => {
    expect(run('repeats', '100').filter((r) => r.session_pid === 200).map((r) => [r.executable, r.seen, r.runs, r.total_ms, r.max_ms])).toEqual([
      ['/usr/bin/step', 'exec', 2, 350, 200],
    ])
    expect(run('repeats', '100').filter((r) => r.session_pid === 300).map((r) => [r.executable, r.seen, r.runs, r.total_ms])).toEqual([
      ['server', 'fork', 2, 400],
    ])
  })

  test('runq-wait: runqslower waits of the session\'s processes, linked by TID', () => {
    const rows = run('runq-wait', '100').filter((r) => r.session_pid === 200)
    expect(rows.map((r) => [r.kind, r.pid, r.waits, r.wait_us, r.wait_ms])).toEqual([
      ['total', null, 3, 2250, 2.25],
      ['process', 203, 1, 1500, 1.5],
      ['process', 204, 2, 750, 0.75],
    ])
    expect(run('runq-wait', '100').filter((r) => r.session_pid === 300).map((r) => [r.kind, r.waits])).toEqual([['total', 0]])
  })

  test('sessions: two exec\'d children with children running the same command line make the root a server', () => {
    expect(new Set(run('time-split', '400').map((r) => r.session_pid))).toEqual(new Set([400, 401, 402]))
    expect(run('time-split', '400').filter((r) => r.kind === 'session').map((r) => [r.pid, r.level, r.wall_ms])).toEqual([
      [400, 0, 1500],
      [401, 1, 500],
      [402, 1, 500],
    ])
    // 202 (sh -c work) runs three children, none of which has children: 202 is a session
    expect(new Set(run('time-split', '202').map((r) => r.session_pid))).toEqual(new Set([202]))
  })

  test('sessions: auto takes a root that is a session as the only one; children and root force it', () => {
    expect(new Set(run('time-split', '200').map((r) => r.session_pid))).toEqual(new Set([200]))
    expect(new Set(run('time-split', '200', 'children').map((r) => r.session_pid))).toEqual(new Set([200, 201, 202]))
    expect(new Set(run('time-split', '100', 'root').map((r) => r.session_pid))).toEqual(new Set([100]))
  })
})

describe('summary', () => {
  test('the root row of a PID that started before the capture says so', () => {
    const root = run('summary', '100').filter((r) => r.section === 'root')
    expect(root).toEqual([{ section: 'root', item: 'pid 100', value: null, detail: "pid 100, started before the capture (seen only as its children's parent)" }])
  })

  test('how many of the tree execsnoop\'s PPIDs alone reach, next to the true count', () => {
    const rows = run('summary', '100')
    expect(rows.find((r) => r.item === 'total')?.value).toBe(10)
    // no execsnoop line names 100 as a parent: the sessions (200, 300) never exec'd
    expect(rows.find((r) => r.item === 'via execsnoop PPIDs')).toMatchObject({ value: 0, detail: expect.stringMatching(/^of 10: /) as unknown })
    // from session 200, its children and sh's children are all seen by execsnoop
    expect(run('summary', '200').find((r) => r.item === 'via execsnoop PPIDs')).toMatchObject({ value: 5, detail: expect.stringMatching(/^of 5: /) as unknown })
  })
})

describe('why', () => {
  test('JSON shape: sessions with pid, wall_ms, subtrees, critical_path, self', () => {
    expect(result.server).toBe(true)
    expect(result.roots.map((r) => [r.pid, r.started_before_capture])).toEqual([[100, true]])
    expect(result.sessions.map((s) => [s.pid, s.wall_ms])).toEqual([
      [200, 1000],
      [300, 1500],
    ])
    const s = result.sessions[0]!
    expect(s.subtrees.map((t) => [t.pid, t.command, t.ms, t.share])).toEqual([
      [202, '/bin/sh -c work', 550, 0.55],
      [201, '/usr/bin/prep', 200, 0.2],
    ])
    expect(s.critical_path.map((t) => [t.pid, t.command, t.ms])).toEqual([
      [200, 'server', 1000],
      [202, '/bin/sh -c work', 550],
      [204, '/usr/bin/step 2', 200],
    ])
    expect(s.self.map((t) => [t.pid, t.ms])).toEqual([
      [200, 300],
      [201, 200],
      [204, 200],
      [203, 150],
      [202, 100],
    ])
    expect(s.runq).toMatchObject({ waits: 3, wait_ms: 2.25, processes: 2 })
  })

  test('text: read top down, with the figures of the queries', () => {
    const text = renderWhy(result)
    expect(text).toContain('root: pid 100, started before the capture')
    expect(text).toContain('session 1 of 2: server 200 (fork)')
    expect(text).toContain('    sh 202: sh -c work: 550 ms of 1000 ms (55%) 4 processes')
    expect(text).toContain('    server itself, none of its subtrees running: 250 ms (25%)')
    expect(text).toContain('└ step 204: /usr/bin/step 2 200 ms (40% of its parent)')
    expect(text).toContain('/usr/bin/step ×2: 350 ms in total, longest 200 ms')
    expect(text).toContain('run-queue wait: 2 processes waited 2.3 ms for a CPU (3 waits, longest 1.5 ms)')
  })

  test('CLI: --json, errors for a PID not in the capture and bad flags', async () => {
    const json = await runCli('why', '100', '--db', db, '--json')
    expect(json.code).toBe(0)
    const parsed = JSON.parse(json.stdout) as WhyResult
    expect(parsed.sessions[1]?.subtrees[0]).toMatchObject({ pid: 301, command: '/usr/bin/x', ms: 1000 })
    const missing = await runCli('why', '4242', '--db', db)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/pid 4242 is not in capture/)
    const bad = await runCli('why', '100', '--sessions', 'some', '--db', db)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--sessions must be auto, children or root/)
    const one = await runCli('why', '100', '--db', db, '--max-sessions', '1')
    expect(one.stdout).toContain('session 1 of 2: server 200 (fork)')
    expect(one.stdout).not.toContain('session 2 of 2')
    expect(one.stdout).toContain('… 1 more session in start order (--max-sessions 2 shows them all, --json has them all)')
    const noVs = await runCli('why', '100', '--capture-b', 'x', '--db', db)
    expect(noVs.code).toBe(2)
    expect(noVs.stderr).toMatch(/--capture-b needs --vs/)
  })
})

describe('readable commands', () => {
  test('sh -c and env wrappers are dropped for display only', () => {
    expect(readableCommand('/bin/sh -c /usr/bin/env -i PATH=/usr/local/sbin:/usr/bin run-parts --lsbsysinit /etc/update-motd.d')).toBe(
      'sh -c run-parts --lsbsysinit /etc/update-motd.d',
    )
    expect(readableCommand('/bin/bash -c echo hi')).toBe('bash -c echo hi')
    expect(readableCommand('/usr/bin/env -i A=1 x')).toBe('/usr/bin/env -i A=1 x')
    expect(readableCommand('/usr/bin/bash /root/.pyenv/libexec/pyenv-init -')).toBe('/usr/bin/bash /root/.pyenv/libexec/pyenv-init -')
  })
})

describe('--vs pairing', () => {
  const t = (id: number, command: string, comm: string, ms: number) => ({ pid: id, id, command, comm, fork: false, processes: 1, ms, share: null })
  test('subtrees pair by command, not by rank; then by command name; the rest is new or gone', () => {
    const a = [t(1, '/bin/bash', 'bash', 300), t(2, 'sshd', 'sshd', 100), t(3, '/bin/sh -c motd', 'sh', 50), t(4, '/usr/sbin/sshd -f /tmp/a/cfg', 'sshd', 20)]
    const b = [t(11, 'sshd', 'sshd', 400), t(12, '/bin/bash', 'bash', 200), t(14, '/usr/sbin/sshd -f /tmp/b/cfg', 'sshd', 30), t(15, '/usr/bin/new', 'new', 5)]
    expect(matchSubtrees(a, b).map((r) => [r.command, r.a?.pid ?? null, r.b?.pid ?? null, r.delta_ms])).toEqual([
      ['sshd', 2, 11, 300],
      ['/bin/bash', 1, 12, -100],
      ['/bin/sh -c motd', 3, null, -50],
      ['/usr/sbin/sshd -f /tmp/a/cfg', 4, 14, 10],
      ['/usr/bin/new', null, 15, 5],
    ])
  })
})

describe('why on the real capture examples/ssh-login', () => {
  const sshdPid = (dir: string) => readFileSync(join('examples', dir, 'sshd.pid'), 'utf8').trim()
  let realDb: string
  beforeAll(async () => {
    realDb = join(mkdtempSync(join(tmpdir(), 'tracedb-why-real-')), 'real.db')
    const s = openStore(realDb)
    await ingest(s, { paths: ['examples/ssh-login'], capture: 'before' })
    await ingest(s, { paths: ['examples/ssh-login-nopam'], capture: 'after' })
    s.close()
  })

  test('across the three logins, the login shell\'s start-up holds the most time (checked by hand-written SQL)', async () => {
    const s = openStore(realDb, { readonly: true })
    // independently, by counting 10 ms ticks (this capture's times are whole
    // multiples of 10 ms): per session (a direct child of the listener), the
    // ticks of the session during which some process of a direct child's
    // subtree was alive, summed per command name over the sessions
    const byHand = s.sqlite
      .prepare(
        `WITH RECURSIVE
         l AS (SELECT id FROM process WHERE capture_id = (SELECT id FROM capture WHERE name = 'before') AND pid = ?),
         sess AS (SELECT p.id, p.start_ts, p.exit_ts FROM process p JOIN l ON p.parent_id = l.id),
         tick (sid, t, e) AS (
           SELECT id, start_ts, exit_ts FROM sess
           UNION ALL SELECT sid, t + 10000000, e FROM tick WHERE t + 10000000 < e),
         sub (sid, head, id) AS (
           SELECT sess.id, k.id, k.id FROM sess JOIN process k ON k.parent_id = sess.id
           UNION ALL SELECT sub.sid, sub.head, k.id FROM sub JOIN process k ON k.parent_id = sub.id),
         covered AS (
           SELECT DISTINCT sub.sid, sub.head, tick.t
           FROM sub JOIN process p ON p.id = sub.id JOIN tick ON tick.sid = sub.sid
           WHERE p.start_ts <= tick.t AND tick.t < p.exit_ts)
         SELECT h.comm, count(*) * 10000000 AS ns
         FROM covered JOIN process h ON h.id = covered.head
         GROUP BY h.comm ORDER BY ns DESC`,
      )
      .all(Number(sshdPid('ssh-login'))) as { comm: string; ns: number }[]
    s.close()
    expect(byHand.map((r) => [r.comm, r.ns / 1e6])).toEqual([
      ['bash', 570],
      ['sshd', 360],
      ['sh', 10],
    ])
    const reader = await openReader(realDb)
    try {
      const w = await why(reader, { pid: Number(sshdPid('ssh-login')), capture: 'before' })
      expect(w.server).toBe(true)
      expect(w.sessions).toHaveLength(3)
      expect(w.roots[0]?.across.map((a) => [a.comm, a.ms])).toEqual(byHand.map((r) => [r.comm, r.ns / 1e6]))
      // every session's login shell (bash, its pyenv start-up below it) is among its two largest subtrees
      for (const session of w.sessions) {
        expect(session.subtrees.slice(0, 2).map((t) => t.comm)).toContain('bash')
        expect(session.subtrees.find((t) => t.comm === 'bash')!.processes).toBeGreaterThan(100)
      }
    } finally {
      await reader.close()
    }
  })

  test('summary: execsnoop\'s PPIDs alone reach 95 of the 437 processes', () => {
    const s = openStore(realDb, { readonly: true })
    const q = loadCatalog().get('summary')!
    const rows = runQuery(s, q, bindParams(q, [sshdPid('ssh-login')]), resolveCapture(s, 'before').id).rows
    s.close()
    expect(rows.find((r) => r.item === 'via execsnoop PPIDs')).toMatchObject({ value: 95, detail: expect.stringMatching(/^of 437: /) as unknown })
  })

  test('every figure of why is a row of the named queries', async () => {
    const pid = sshdPid('ssh-login')
    const reader = await openReader(realDb)
    let w: WhyResult
    try {
      w = await why(reader, { pid: Number(pid), capture: 'before', top: 1000 })
    } finally {
      await reader.close()
    }
    const s = openStore(realDb, { readonly: true })
    const capture = resolveCapture(s, 'before').id
    const q = (name: string) => {
      const query = loadCatalog().get(name)!
      return runQuery(s, query, bindParams(query, [pid]), capture).rows as Row[]
    }
    const split = q('time-split')
    const path = q('critical-path')
    const self = q('self-time')
    const repeats = q('repeats')
    s.close()
    for (const session of [...w.roots, ...w.sessions]) {
      const mine = split.filter((r) => r.session_id === session.id)
      expect(mine.find((r) => r.kind === 'session')?.wall_ms).toBe(session.wall_ms)
      expect(mine.find((r) => r.kind === 'session')?.processes).toBe(session.processes)
      expect(mine.find((r) => r.kind === 'itself')?.ms).toBe(session.itself_ms)
      expect(session.across.map((a) => [a.comm, a.ms, a.of_ms])).toEqual(mine.filter((r) => r.kind === 'across').map((r) => [r.comm, r.ms, r.of_ms]))
      expect(session.subtrees.map((t) => [t.id, t.ms, t.share])).toEqual(mine.filter((r) => r.kind === 'subtree').map((r) => [r.id, r.ms, r.share]))
      expect(session.critical_path.map((t) => [t.id, t.ms])).toEqual(path.filter((r) => r.session_id === session.id).map((r) => [r.id, r.ms]))
      expect(session.self.map((t) => [t.id, t.ms])).toEqual(
        self.filter((r) => r.session_id === session.id && (r.ns as number) > 0).map((r) => [r.id, r.ms]),
      )
      expect(session.repeats.map((t) => [t.executable, t.runs, t.total_ms])).toEqual(
        repeats.filter((r) => r.session_id === session.id).map((r) => [r.executable, r.runs, r.total_ms]),
      )
    }
  })

  test('--vs: the motd subtree is gone without PAM, subtrees matched by command', async () => {
    const out = await runCli('why', sshdPid('ssh-login'), '--db', realDb, '--capture', 'before', '--vs', sshdPid('ssh-login-nopam'), '--capture-b', 'after', '--json')
    expect(out.code).toBe(0)
    const v = JSON.parse(out.stdout) as { sessions: { a: { pid: number } | null; subtrees: { command: string; a: { ms: number } | null; b: { ms: number } | null; delta_ms: number }[] }[] }
    // root, then three logins on each side
    expect(v.sessions).toHaveLength(4)
    for (const session of v.sessions.slice(1)) {
      const motd = session.subtrees.find((t) => t.command.includes('run-parts --lsbsysinit /etc/update-motd.d'))
      expect(motd).toMatchObject({ b: null })
      const bash = session.subtrees.filter((t) => t.command.startsWith('/bin/bash'))
      expect(bash).toHaveLength(1)
      expect(bash[0]?.a).not.toBeNull()
      expect(bash[0]?.b).not.toBeNull()
      expect(bash[0]!.delta_ms).toBe(bash[0]!.b!.ms - bash[0]!.a!.ms)
    }
    const text = await runCli('why', sshdPid('ssh-login'), '--db', realDb, '--capture', 'before', '--vs', sshdPid('ssh-login-nopam'), '--capture-b', 'after')
    expect(text.stdout).toMatch(/session 1: A sshd 8858/)
    expect(text.stdout).toMatch(/ {2}sh -c run-parts .*update-motd\.d.* +8860 \/ — .* gone/)
  })
})
