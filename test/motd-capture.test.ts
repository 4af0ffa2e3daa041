import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { ingest } from '../src/ingest/ingest.js'
import { openStore, type Store } from '../src/store/open.js'
import { openReader } from '../src/store/reader.js'
import { why, type WhyResult } from '../src/why/index.js'
import { exportPerfetto } from '../src/export/perfetto.js'
import { loadCatalog } from '../src/queries/catalog.js'

/**
 * The two example captures of "ssh login takes 1–2 s: why?"
 * (examples/motd-capture.sh): four plain logins (an unprivileged user running
 * `true`, the second one interactive) into a private sshd whose PAM session
 * runs Ubuntu-like /etc/update-motd.d scripts (examples/ssh-motd), and the
 * same with an empty /etc/update-motd.d (examples/ssh-motd-none), recorded by
 * `tracedb record` with execsnoop -T -t, exitsnoop -t, tcpstates -T,
 * tcplife -T and runqslower -P 1000.
 */
const EXAMPLES = join(import.meta.dirname, '..', 'examples')
const SCRIPTS = readdirSync(join(EXAMPLES, 'update-motd.d')).sort()

interface Capture {
  readonly name: string
  readonly db: string
  readonly dir: string
  readonly listener: number
  readonly store: Store
  readonly files: readonly { format: string | null; bad: number; records: number }[]
}

async function load(name: string): Promise<Capture> {
  const dir = join(EXAMPLES, name)
  const db = join(mkdtempSync(join(tmpdir(), `tracedb-${name}-`)), 'c.db')
  const store = openStore(db)
  const report = await ingest(store, { paths: [dir] })
  return { name, db, dir, listener: Number(readFileSync(join(dir, 'sshd.pid'), 'utf8').trim()), store, files: report.files }
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

/** What each recording holds (see its README.md). */
const FACTS = {
  'ssh-motd': { listener: 4086, sessions: [4092, 4132, 4202, 4241], descendants: 147, execs: 224 },
  'ssh-motd-none': { listener: 4556, sessions: [4562, 4572, 4584, 4594], descendants: 27, execs: 108 },
} as const

describe.each([
  ['ssh-motd', () => motd],
  ['ssh-motd-none', () => none],
] as const)('example capture %s', (name, capture) => {
  test('its listener, sessions and counts are those of the recording', () => {
    const c = capture()
    const facts = FACTS[name]
    expect(c.listener).toBe(facts.listener)
    expect(sessions(c).map((p) => p.pid)).toEqual(facts.sessions)
    expect(descendants(c, listener(c).id)).toHaveLength(facts.descendants)
    expect(Number(c.store.sqlite.prepare('SELECT count(*) FROM execsnoop_event').pluck().get())).toBe(facts.execs)
    // plain logins: every session's shell runs as the temporary user, none as root's pyenv start-up
    expect(c.store.sqlite.prepare("SELECT count(*) FROM process WHERE args LIKE '%pyenv%'").pluck().get()).toBe(0)
    const under = new Set(descendants(c, listener(c).id).map((p) => p.id))
    const shells = (c.store.sqlite.prepare("SELECT process_id, uid FROM execsnoop_event WHERE comm = 'bash' AND ret = 0").all() as { process_id: number; uid: number }[]).filter((e) =>
      under.has(e.process_id),
    )
    // one login shell per session: bash -c true, and -bash for the interactive one
    expect(shells).toHaveLength(4)
    expect(new Set(shells.map((e) => Number(e.uid))).has(0)).toBe(false)
  })

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
    expect(rows.length).toBe(FACTS[name].execs)
    // each row: wall second <= start + TIME(s) < wall second + 1 (TIME(s) has 3 decimals)
    let earliest = -Infinity
    let latest = Infinity
    for (const r of rows) {
      // time_text keeps both columns: "HH:MM:SS TIME(s)"
      const [h, m, s] = r.time_text.slice(0, 8).split(':').map(Number) as [number, number, number]
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

  test('ssh-motd: run-parts runs the scripts one after another: each starts when the previous one has exited, within 10 ms', () => {
    for (const session of sessions(motd)) {
      const rp = runParts(motd, session)[0]!
      const scripts = motd.store.sqlite
        .prepare('SELECT pid, args, start_ts, exit_ts FROM process WHERE parent_id = ? ORDER BY start_ts')
        .all(rp.id) as { pid: number; args: string; start_ts: bigint | number; exit_ts: bigint | number }[]
      expect(scripts).toHaveLength(SCRIPTS.length)
      for (let i = 1; i < scripts.length; i++) {
        const gapMs = (Number(scripts[i]!.start_ts) - Number(scripts[i - 1]!.exit_ts)) / 1e6
        expect(Math.abs(gapMs), `${scripts[i - 1]!.args} -> ${scripts[i]!.args} in session ${String(session.pid)}`).toBeLessThanOrEqual(10)
      }
      // and no two of them overlap by more than that
      const ends = scripts.map((x) => Number(x.exit_ts))
      for (let i = 1; i < scripts.length; i++) expect(Number(scripts[i]!.start_ts)).toBeGreaterThanOrEqual(ends[i - 1]! - 10e6)
    }
  })
})

/** Each script's [start, exit] in ms, as a reader of the output sees them, in start order. */
interface Span {
  readonly name: string
  readonly start: number
  readonly exit: number
}

function expectOneAfterAnother(spans: readonly Span[], where: string): void {
  expect(spans.map((x) => x.name)).toEqual(SCRIPTS)
  for (let i = 1; i < spans.length; i++) {
    const prev = spans[i - 1]!
    const next = spans[i]!
    // starts after the previous one exits, within 10 ms either way
    expect(Math.abs(next.start - prev.exit), `${where}: ${prev.name} -> ${next.name}`).toBeLessThanOrEqual(10)
    expect(next.start, `${where}: ${next.name} starts before ${prev.name} has run`).toBeGreaterThan(prev.start)
  }
}

describe('ssh-motd: the scripts come out one after another where a person looks', () => {
  test('in `query timeline` (each script\'s exec and exit rows)', async () => {
    const reader = await openReader(motd.db)
    try {
      const capture = await reader.resolveCapture()
      const timeline = loadCatalog().get('timeline')!
      for (const session of sessions(motd)) {
        const rp = runParts(motd, session)[0]!
        const { rows } = await reader.runNamed(timeline, { pid: rp.pid, limit: -1 }, capture.id)
        const spans = SCRIPTS.map((name) => {
          const pidOf = rows.find((r) => r.tool === 'execsnoop' && String(r.event).includes(`/etc/update-motd.d/${name}`))
          expect(pidOf, `${name} exec in the timeline of run-parts ${String(rp.pid)}`).toBeDefined()
          const exit = rows.find((r) => r.tool === 'exitsnoop' && r.pid === pidOf!.pid)
          expect(exit, `${name} exit`).toBeDefined()
          return { name, start: Date.parse(String(pidOf!.time_utc)), exit: Date.parse(String(exit!.time_utc)) }
        })
        expectOneAfterAnother(spans, `timeline of session ${String(session.pid)}`)
      }
    } finally {
      await reader.close()
    }
  })

  test('in `export` (the scripts\' process slices)', async () => {
    const reader = await openReader(motd.db)
    try {
      const capture = await reader.resolveCapture()
      for (const session of sessions(motd)) {
        const rp = runParts(motd, session)[0]!
        const trace = await exportPerfetto(reader, { captureId: capture.id, pid: rp.pid })
        const slices = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'process')
        const spans = SCRIPTS.map((name) => {
          const s = slices.find((e) => typeof e.args?.args === 'string' && e.args.args === `/etc/update-motd.d/${name}`)
          expect(s, `${name} slice in the export of run-parts ${String(rp.pid)}`).toBeDefined()
          return { name, start: s!.ts! / 1000, exit: (s!.ts! + s!.dur!) / 1000 }
        })
        expectOneAfterAnother(spans, `export of session ${String(session.pid)}`)
      }
    } finally {
      await reader.close()
    }
  })
})

describe('why on the motd captures', () => {
  async function whyOf(c: Capture): Promise<WhyResult> {
    const reader = await openReader(c.db)
    try {
      return await why(reader, { pid: c.listener })
    } finally {
      await reader.close()
    }
  }
  const isRunParts = (command: string) => /run-parts --lsbsysinit \/etc\/update-motd\.d/.test(command)

  test('ssh-motd: in every session the run-parts subtree comes first, with half to three quarters of the session; the critical path ends in the slowest script', async () => {
    const w = await whyOf(motd)
    expect(w.server).toBe(true)
    expect(w.sessions.map((s) => s.pid)).toEqual(FACTS['ssh-motd'].sessions)
    for (const session of w.sessions) {
      const first = session.subtrees[0]!
      expect(isRunParts(first.command), `session ${String(session.pid)}: ${first.command}`).toBe(true)
      expect(first.share).toBeGreaterThanOrEqual(0.5)
      expect(first.share).toBeLessThanOrEqual(0.75)
      // the slowest script under this session's run-parts, by its placed lifetime
      const rp = runParts(motd, { id: session.id, pid: session.pid, comm: 'sshd', args: null })[0]!
      const slowest = motd.store.sqlite
        .prepare('SELECT id FROM process WHERE parent_id = ? ORDER BY exit_ts - start_ts DESC, start_ts LIMIT 1')
        .pluck()
        .get(rp.id) as number
      expect(session.critical_path.map((step) => step.id)).toContain(Number(slowest))
    }
  })

  test('ssh-motd-none: run-parts covers almost nothing of any session', async () => {
    const w = await whyOf(none)
    expect(w.sessions).toHaveLength(4)
    for (const session of w.sessions) {
      const rp = session.subtrees.find((t) => isRunParts(t.command))
      expect(rp, `session ${String(session.pid)}`).toBeDefined()
      expect(rp!.share).toBeLessThan(0.05)
      expect(session.subtrees[0]!.command).not.toMatch(/run-parts/)
    }
  })
})
