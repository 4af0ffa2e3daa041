import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { compareSummaries } from '../src/compare.js'
import { sqliteReader } from '../src/store/reader.js'
import { ingest } from '../src/ingest/ingest.js'
import { loadCatalog } from '../src/queries/catalog.js'
import { bindParams, resolveCapture, runQuery } from '../src/queries/run.js'
import { openStore, type Store } from '../src/store/open.js'

/**
 * A real capture: three ssh logins into a private sshd on 127.0.0.1, traced
 * with libbpf-tools execsnoop -T -U -x and exitsnoop -t (examples/capture.sh).
 * Root's login shell runs pyenv's init scripts: hundreds of processes, most
 * of them forked without exec and so invisible to execsnoop.
 */
const DIR = join(import.meta.dirname, 'fixtures', 'captures', 'ssh-login')
const SSHD = Number(readFileSync(join(DIR, 'sshd.pid'), 'utf8').trim())

/** Independent check: BFS over the PPID edges printed in the logs. */
function bfs(edges: Map<number, Set<number>>, root: number): Set<number> {
  const seen = new Set<number>()
  const todo = [root]
  while (todo.length) {
    const p = todo.pop()!
    for (const c of edges.get(p) ?? []) {
      if (!seen.has(c)) {
        seen.add(c)
        todo.push(c)
      }
    }
  }
  return seen
}

let store: Store
beforeAll(async () => {
  store = openStore(join(mkdtempSync(join(tmpdir(), 'tracedb-real-')), 'real.db'))
  const report = await ingest(store, { paths: [DIR] })
  const logs = report.files.filter((f) => f.format === 'execsnoop' || f.format === 'exitsnoop')
  expect(logs.map((f) => f.bad)).toEqual([0, 0])
})

describe('real ssh-login capture', () => {
  test('descendants of sshd: exactly the processes the logs say descend from it, bridged through exitsnoop', () => {
    const q = loadCatalog().get('descendants')!
    const rows = runQuery(store, q, bindParams(q, [String(SSHD)]), resolveCapture(store).id).rows
    const pids = new Set(rows.map((r) => Number(r.pid)))
    expect(pids.size).toBe(rows.length) // no PID reused within this short capture

    const execEdges = new Map<number, Set<number>>()
    const allEdges = new Map<number, Set<number>>()
    const add = (m: Map<number, Set<number>>, ppid: number, pid: number) => {
      if (!m.has(ppid)) m.set(ppid, new Set())
      m.get(ppid)!.add(pid)
    }
    for (const r of store.sqlite.prepare('SELECT pid, ppid FROM execsnoop_event WHERE ppid IS NOT NULL').all() as { pid: number; ppid: number }[]) {
      add(execEdges, r.ppid, r.pid)
      add(allEdges, r.ppid, r.pid)
    }
    for (const r of store.sqlite.prepare('SELECT pid, ppid FROM exitsnoop_event WHERE tid = pid').all() as { pid: number; ppid: number }[]) {
      add(allEdges, r.ppid, r.pid)
    }
    const viaExec = bfs(execEdges, SSHD)
    const truth = bfs(allEdges, SSHD)
    expect([...pids].sort()).toEqual([...truth].sort())
    // the bridge: most of the tree is unreachable through execsnoop's PPIDs alone
    expect(viaExec.size).toBeLessThan(truth.size / 2)
    const forkOnly = rows.filter((r) => r.seen === 'fork')
    expect(forkOnly.length).toBeGreaterThan(100)
    expect(rows.length).toBe(437)
    expect(viaExec.size).toBe(95)
  })

  test('the three logins: one privileged sshd child per connection, each with its session', () => {
    const q = loadCatalog().get('children')!
    const kids = runQuery(store, q, bindParams(q, [String(SSHD)]), resolveCapture(store).id).rows
    expect(kids.map((k) => k.comm)).toEqual(['sshd', 'sshd', 'sshd'])
    expect(kids.every((k) => typeof k.lifetime_s === 'number')).toBe(true)
  })

  test('times are absolute, from capture.json', () => {
    const row = store.sqlite
      .prepare("SELECT strftime('%Y-%m-%dT%H:%M:%S', min(ts) / 1e9, 'unixepoch') AS first FROM execsnoop_event")
      .get() as { first: string }
    expect(row.first).toBe('2026-11-28T06:38:04')
  })
})

describe('rebuild', () => {
  test('re-parsing the event store gives back the same tables', async () => {
    const { rebuild } = await import('../src/ingest/ingest.js')
    const { canonicalDump } = await import('./helpers/canonical.js')
    const before = canonicalDump(store, DIR)
    store.sqlite.prepare('DELETE FROM execsnoop_event').run()
    store.sqlite.prepare("UPDATE log_line SET kind = 'bad' WHERE kind = 'record'").run()
    const r = rebuild(store)
    expect(r.bad).toBe(0)
    expect(canonicalDump(store, DIR)).toEqual(before)
  })
})

describe('real ssh-login capture: TCP (libbpf tcpstates -T, tcplife -T)', () => {
  const run = (name: string, ...args: string[]) => {
    const q = loadCatalog().get(name)!
    return runQuery(store, q, bindParams(q, args), resolveCapture(store).id).rows
  }
  // The three logins, from tcpstates.log: client port, handshake MS of the
  // client's SYN_SENT -> ESTABLISHED and the server's SYN_RECV -> ESTABLISHED.
  const logins = [
    { port: 54718, client: 0.218, server: 0.015, sshd: 8858, ssh: 8857 },
    { port: 58168, client: 0.212, server: 0.011, sshd: 8981, ssh: 8980 },
    { port: 58178, client: 0.105, server: 0.015, sshd: 9183, ssh: 9182 },
  ]

  test('handshakes 2222: each connection exactly once per side, with the MS of its -> ESTABLISHED row', () => {
    const rows = run('handshakes', '2222')
    expect(rows.map((r) => [r.side, r.local, r.remote, r.handshake_ms, r.result])).toEqual(
      logins.flatMap((l) => [
        ['client', `127.0.0.1:${String(l.port)}`, '127.0.0.1:2222', l.client, 'established'],
        ['server', '127.0.0.1:2222', `127.0.0.1:${String(l.port)}`, l.server, 'established'],
      ]),
    )
    // the first server socket's address is reused by the next client socket
    const sk = store.sqlite.prepare('SELECT side, skaddr FROM tcp_connection ORDER BY start_ts, first_line_id').all() as { side: string; skaddr: string }[]
    expect(sk[1]).toEqual({ side: 'server', skaddr: 'ffff88810ae64a00' })
    expect(sk[2]).toEqual({ side: 'client', skaddr: 'ffff88810ae64a00' })
    expect(run('handshakes', '9')).toEqual([])
  })

  test('connections of sshd: the logins with their tcplife lifetime and the evidence that tied them to the tree', () => {
    const rows = run('connections', String(SSHD))
    expect(rows).toHaveLength(6)
    const servers = rows.filter((r) => r.side === 'server')
    expect(servers.map((r) => [r.remote, r.lifetime_ms, r.evidence, r.others])).toEqual([
      ['127.0.0.1:54718', 433.69, 'sshd 8858 (tcplife, tcpstates)', 'ssh 8857'],
      ['127.0.0.1:58168', 495.87, 'sshd 8981 (tcplife, tcpstates)', 'ssh 8980'],
      ['127.0.0.1:58178', 344.68, 'sshd 9183 (tcplife, tcpstates)', 'ssh 9182'],
    ])
    // on loopback the server's PID shows on the client's transitions: said so
    const clients = rows.filter((r) => r.side === 'client')
    expect(clients.map((r) => r.evidence)).toEqual(logins.map((l) => `sshd ${String(l.sshd)} (tcpstates)`))
    // tcpretrans was not captured: unknown, not zero
    expect(rows.every((r) => r.retransmits === null)).toBe(true)
    // the ssh client is not under sshd, but its own tree finds its connections
    expect(run('connections', '8857').map((r) => r.side)).toEqual(['client', 'server'])
  })

  test('summary of sshd tells the story: logins, the tree, what was not captured, the connections', () => {
    const rows = run('summary', String(SSHD))
    const get = (section: string, item: string) => rows.find((r) => r.section === section && r.item === item)
    expect(get('descendants', 'total')?.value).toBe(437)
    expect(get('descendants', "exec'd")?.value).toBe(212)
    expect(get('descendants', 'fork-only')?.value).toBe(225)
    expect(get('sessions', 'count')?.value).toBe(3)
    expect(get('sessions', 'lifetime max s')?.value).toBe(0.49)
    expect(get('top spawners', 'bash')?.value).toBe(403)
    expect(rows.find((r) => r.section === 'longest-lived')).toMatchObject({ item: 'sshd', value: 0.49 })
    expect(rows.find((r) => r.section === 'longest-lived')?.detail).toMatch(/^pid 8981: \/usr\/sbin\/sshd/)
    expect(get('block I/O', 'status')).toMatchObject({ value: 'tool not captured', detail: 'tool not captured: no biosnoop log in this capture' })
    expect(get('opens', 'status')?.detail).toBe('tool not captured: no opensnoop log in this capture')
    expect(get('tcp', 'connections')?.value).toBe(6)
    expect(get('tcp', 'handshake avg ms')?.detail).toBe('max 0.218 ms')
    expect(get('tcp', 'retransmits')?.detail).toBe('tool not captured: no tcpretrans log in this capture')
    expect(rows.filter((r) => r.section === 'tcp connections')).toHaveLength(6)
    // a PID that is not in the capture says so instead of printing zeros only
    expect(run('summary', '999999').find((r) => r.section === 'root')).toMatchObject({ value: 'not found' })
  })
})

describe('real before/after: the same logins without PAM (no update-motd.d)', () => {
  test('compare shows the motd scripts gone and the rest of the tree unchanged', async () => {
    const NOPAM = join(import.meta.dirname, 'fixtures', 'captures', 'ssh-login-nopam')
    const s = openStore(':memory:')
    try {
      await ingest(s, { paths: [DIR], capture: 'before' })
      const after = await ingest(s, { paths: [NOPAM], capture: 'after' })
      expect(after.files.map((f) => [f.format, f.bad])).toEqual([
        ['execsnoop', 0],
        ['exitsnoop', 0],
        ['opensnoop', 0],
        ['tcplife', 0],
        ['tcpstates', 0],
      ])
      const pidB = Number(readFileSync(join(NOPAM, 'sshd.pid'), 'utf8').trim())
      const { rows } = await compareSummaries(sqliteReader(s), { captureA: 'before', captureB: 'after', pidA: SSHD, pidB })
      const row = (section: string, item: string) => rows.find((r) => r.section === section && r.item === item)
      expect(row('descendants', 'total')).toMatchObject({ A: 437, B: 425, change: '-12 (-2.7%)' })
      expect(row('descendants', "exec'd")).toMatchObject({ A: 212, B: 200, change: '-12 (-5.7%)' })
      expect(row('descendants', 'fork-only')).toMatchObject({ A: 225, B: 225, change: '' })
      expect(row('top spawners', '10-uname')).toMatchObject({ A: 3, B: null, change: 'gone' })
      expect(row('top spawners', 'bash')).toMatchObject({ A: 403, B: 403, change: '' })
      expect(row('tcp', 'connections')).toMatchObject({ A: 6, B: 6, change: '' })
      // opensnoop ran only in the second capture
      expect(row('opens', 'status')).toMatchObject({ A: 'tool not captured', change: 'gone' })
      expect(row('opens', 'opens')?.change).toBe('new')
    } finally {
      s.close()
    }
  })
})

describe('real scripted tree with exact ground truth', () => {
  const TREE = join(import.meta.dirname, 'fixtures', 'captures', 'tree')
  test('descendants equal the processes the workload recorded itself creating (forks, execs, double exec, signals)', async () => {
    const s = openStore(join(mkdtempSync(join(tmpdir(), 'tracedb-tree-')), 'tree.db'))
    try {
      await ingest(s, { paths: [TREE] })
      const root = Number(readFileSync(join(TREE, 'root.pid'), 'utf8').trim())
      const truth = readFileSync(join(TREE, 'truth.txt'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(' '))
        .map(([pid, parent, kind]) => ({ pid: Number(pid), parent: Number(parent), kind }))
      expect(truth).toHaveLength(73)
      // One process was orphaned before it exited and forked without exec:
      // exitsnoop shows PPID 1, nothing in the logs ties it (or its child) to
      // the tree. Everything else must be found, exactly.
      const orphan = 12500
      const lost = new Set([orphan, ...truth.filter((t) => t.parent === orphan).map((t) => t.pid)])
      const expected = truth.filter((t) => !lost.has(t.pid))
      const q = loadCatalog().get('descendants')!
      const rows = runQuery(s, q, bindParams(q, [String(root)]), resolveCapture(s).id).rows
      expect(rows.map((r) => Number(r.pid)).sort()).toEqual(expected.map((t) => t.pid).sort())
      const byPid = new Map(rows.map((r) => [Number(r.pid), r]))
      for (const t of expected) {
        const r = byPid.get(t.pid)!
        expect(r.ppid, `ppid of ${String(t.pid)}`).toBe(t.parent)
        expect(r.seen === 'fork' ? 'fork' : 'exec', `how ${String(t.pid)} was seen`).toBe(t.kind)
      }
    } finally {
      s.close()
    }
  })
})
