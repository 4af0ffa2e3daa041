import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { ingest } from '../src/ingest/ingest.js'
import { openStore, type Store } from '../src/store/open.js'

/**
 * The two example captures of "ssh login takes 1–2 s: why?"
 * (examples/motd-capture.sh): four logins into a private sshd whose PAM
 * session runs Ubuntu-like /etc/update-motd.d scripts (examples/ssh-motd),
 * and the same with an empty /etc/update-motd.d (examples/ssh-motd-none),
 * recorded by `tracedb record` with execsnoop -T -t, exitsnoop -t,
 * tcpstates -T, tcplife -T and runqslower -P 1000.
 */
const EXAMPLES = join(import.meta.dirname, '..', 'examples')
const SCRIPTS = readdirSync(join(EXAMPLES, 'update-motd.d')).sort()

interface Capture {
  readonly dir: string
  readonly listener: number
  readonly store: Store
  readonly files: readonly { format: string | null; bad: number; records: number }[]
}

async function load(name: string): Promise<Capture> {
  const dir = join(EXAMPLES, name)
  const store = openStore(join(mkdtempSync(join(tmpdir(), `tracedb-${name}-`)), 'c.db'))
  const report = await ingest(store, { paths: [dir] })
  return { dir, listener: Number(readFileSync(join(dir, 'sshd.pid'), 'utf8').trim()), store, files: report.files }
}

interface Proc {
  id: number
  pid: number
  comm: string
  args: string | null
}

function children(c: Capture, id: number): Proc[] {
  return c.store.sqlite.prepare('SELECT id, pid, comm, args FROM process WHERE parent_id = ? ORDER BY pid').all(id) as Proc[]
}

/** Every process under `id`, by the derived parent links. */
function descendants(c: Capture, id: number): Proc[] {
  return c.store.sqlite
    .prepare(
      `WITH RECURSIVE d(id) AS (SELECT id FROM process WHERE parent_id = ? UNION ALL SELECT p.id FROM process p JOIN d ON p.parent_id = d.id)
       SELECT p.id, p.pid, p.comm, p.args FROM process p JOIN d USING (id) ORDER BY p.pid`,
    )
    .all(id) as Proc[]
}

function listener(c: Capture): Proc {
  const rows = c.store.sqlite.prepare('SELECT id, pid, comm, args FROM process WHERE pid = ?').all(c.listener) as Proc[]
  expect(rows).toHaveLength(1)
  return rows[0]!
}

/** The sessions: the listener's children, one per accepted connection. */
function sessions(c: Capture): Proc[] {
  return children(c, listener(c).id)
}

const runParts = (c: Capture, session: Proc): Proc[] => descendants(c, session.id).filter((p) => p.comm === 'run-parts')

let motd: Capture
let none: Capture
beforeAll(async () => {
  motd = await load('ssh-motd')
  none = await load('ssh-motd-none')
})

describe.each([
  ['ssh-motd', () => motd],
  ['ssh-motd-none', () => none],
])('example capture %s', (_name, capture) => {
  test('every log is recognised, none has a bad line; runqslower is one of them', () => {
    const c = capture()
    expect(c.files.map((f) => f.format).sort()).toEqual(['execsnoop', 'exitsnoop', 'runqslower', 'tcplife', 'tcpstates'])
    expect(c.files.filter((f) => f.bad > 0)).toEqual([])
    expect(c.files.every((f) => f.records > 0)).toBe(true)
  })

  test('the listener is found: sshd, on 127.0.0.1:2222; one session under it per ssh connection', () => {
    const c = capture()
    expect(listener(c).comm).toBe('sshd')
    expect(listener(c).args).toMatch(/-p 2222 -o ListenAddress=127\.0\.0\.1/)
    // independent count: the client connections tcplife saw to port 2222
    const logins = Number(c.store.sqlite.prepare("SELECT count(*) FROM tcplife_event WHERE comm = 'ssh' AND rport = 2222").pluck().get())
    expect(logins).toBe(4)
    const s = sessions(c)
    expect(s.map((p) => p.comm)).toEqual(Array(logins).fill('sshd'))
    // each session's server side of the connection is that session's process
    const serverPids = (c.store.sqlite.prepare("SELECT pid FROM tcplife_event WHERE comm = 'sshd' AND lport = 2222 ORDER BY pid").pluck().all() as number[]).map(Number)
    expect(s.map((p) => p.pid)).toEqual(serverPids)
  })

  test("execsnoop's TIME(s) clock starts between capture.json's started_utc and header_utc", () => {
    const c = capture()
    const tool = (JSON.parse(readFileSync(join(c.dir, 'capture.json'), 'utf8')) as { tools: Record<string, { command: string[]; started_utc: string; header_utc: string }> }).tools.execsnoop!
    expect(tool.command).toEqual(expect.arrayContaining(['-T', '-t']))
    expect(tool.started_utc).toMatch(/\.\d{3}Z$/)
    expect(tool.header_utc).toMatch(/\.\d{3}Z$/)
    const day = Date.parse(tool.started_utc.slice(0, 10) + 'T00:00:00Z') // recorded in UTC, within one day
    const rows = c.store.sqlite.prepare('SELECT time_text, elapsed_s FROM execsnoop_event').all() as { time_text: string; elapsed_s: number }[]
    expect(rows.length).toBeGreaterThan(500)
    // each row: wall second <= start + TIME(s) < wall second + 1 (TIME(s) has 3 decimals)
    let earliest = -Infinity
    let latest = Infinity
    for (const r of rows) {
      const [h, m, s] = r.time_text.split(':').map(Number) as [number, number, number]
      const wall = day + ((h * 60 + m) * 60 + s) * 1000
      earliest = Math.max(earliest, wall - r.elapsed_s * 1000 - 0.5)
      latest = Math.min(latest, wall + 1000 - r.elapsed_s * 1000 + 0.5)
    }
    expect(earliest).toBeLessThanOrEqual(latest)
    expect(Date.parse(tool.started_utc)).toBeLessThanOrEqual(latest)
    expect(earliest).toBeLessThanOrEqual(Date.parse(tool.header_utc))
  })
})

describe('the motd scripts', () => {
  test('ssh-motd: in every session one run-parts --lsbsysinit /etc/update-motd.d, with the twelve scripts under it in name order', () => {
    expect(SCRIPTS).toHaveLength(12)
    for (const session of sessions(motd)) {
      const rp = runParts(motd, session)
      expect(rp, `session ${String(session.pid)}`).toHaveLength(1)
      expect(rp[0]!.args).toBe('/usr/bin/run-parts --lsbsysinit /etc/update-motd.d')
      const scripts = children(motd, rp[0]!.id)
      // run-parts runs them one at a time, in name order: PIDs rise with it
      expect(scripts.map((p) => p.args?.split(' ').find((a) => a.startsWith('/etc/update-motd.d/')))).toEqual(SCRIPTS.map((s) => `/etc/update-motd.d/${s}`))
    }
  })

  test('ssh-motd-none: run-parts finds nothing to run, and no motd script runs anywhere', () => {
    for (const session of sessions(none)) {
      const rp = runParts(none, session)
      expect(rp, `session ${String(session.pid)}`).toHaveLength(1)
      expect(children(none, rp[0]!.id)).toEqual([])
    }
    const scripts = none.store.sqlite.prepare("SELECT count(*) FROM process WHERE args LIKE '%/etc/update-motd.d/%'").pluck().get()
    expect(scripts).toBe(0)
    expect(Number(motd.store.sqlite.prepare("SELECT count(*) FROM process WHERE args LIKE '%/etc/update-motd.d/%'").pluck().get())).toBeGreaterThanOrEqual(48)
  })
})
