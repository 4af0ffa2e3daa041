import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { createServer, connect } from 'node:net'
import { ingest } from '../../src/ingest/ingest.js'
import { loadCatalog } from '../../src/queries/catalog.js'
import { bindParams, resolveCapture, runQuery } from '../../src/queries/run.js'
import { record } from '../../src/record/record.js'
import { openStore } from '../../src/store/open.js'
import { CLI, requireBuiltCli } from '../helpers/dist.js'
import { tracingUnavailable } from '../helpers/tracing.js'

const why = await tracingUnavailable()

describe('tracedb record', () => {
  test('orchestration with stand-in tools: headers awaited, failures reported in their own words, SIGINT flushes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-rec-'))
    const sbin = join(root, 'sbin')
    mkdirSync(sbin)
    // a tool that prints its header, then one row when interrupted (like a
    // block-buffered tool flushing on SIGINT)
    writeFileSync(
      join(sbin, 'execsnoop'),
      `#!/bin/bash
echo 'PCOMM            PID    PPID   RET ARGS'
trap 'echo "true             4242   4241     0 /bin/true "; exit 0' INT
while :; do sleep 0.05; done
`,
    )
    writeFileSync(join(sbin, 'exitsnoop'), "#!/bin/sh\necho 'libbpf: failed to load object exitsnoop_bpf' >&2\nexit 1\n")
    for (const f of ['execsnoop', 'exitsnoop']) chmodSync(join(sbin, f), 0o755)
    const messages: string[] = []
    const dir = join(root, 'logs')
    const meta = await record({ dir, durationMs: 300, tools: ['execsnoop', 'exitsnoop', 'tcpstates'], sbin, onStatus: (m) => messages.push(m) })
    expect(Object.keys(meta.tools)).toEqual(['execsnoop'])
    expect(meta.failed.exitsnoop).toMatch(/exited at start: libbpf: failed to load object exitsnoop_bpf/)
    expect(meta.failed.tcpstates).toMatch(/not installed/)
    // the best clock: wall second (-T) and ms since the tool started (-t)
    expect(meta.tools.execsnoop?.command).toEqual(['stdbuf', '-oL', join(sbin, 'execsnoop'), '-T', '-t', '-U', '-x'])
    // the tool's start and its header's appearance, to the ms, in that order
    const run = meta.tools.execsnoop!
    expect(run.started_utc).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(run.header_utc).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(Date.parse(run.header_utc!)).toBeGreaterThanOrEqual(Date.parse(run.started_utc))
    expect(readFileSync(join(dir, 'execsnoop.log'), 'utf8')).toMatch(/4242/) // the row printed at SIGINT was kept
    expect(JSON.parse(readFileSync(join(dir, 'capture.json'), 'utf8'))).toMatchObject({ tz: expect.any(String), start_utc: meta.start_utc })
    expect(messages.join('\n')).toMatch(/exitsnoop: FAILED/)
  })

  test('stand-in tools: --cgroup goes to the tools that filter by cgroup, a flag the tool offers is used, a bad cgroup is refused', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-rec-cg-'))
    const sbin = join(root, 'sbin')
    mkdirSync(sbin)
    // each stand-in prints its arguments into its log's first line, then a header
    const standIn = (header: string, help: string) => `#!/bin/bash
if [[ $1 == --help ]]; then printf '%s\\n' '${help}'; exit 0; fi
echo "args: $*"
echo '${header}'
trap 'exit 0' INT
while :; do sleep 0.05; done
`
    writeFileSync(join(sbin, 'execsnoop'), standIn('PCOMM            PID    PPID   RET ARGS', ''))
    writeFileSync(join(sbin, 'runqslower'), standIn('TIME     COMM             TID           LAT(us)', ''))
    // a biosnoop whose --help offers -t (libbpf-tools >= 0.28)
    writeFileSync(join(sbin, 'biosnoop'), standIn('TIMESTAMP    COMM           PID     DISK    T    SECTOR     BYTES   LAT(ms)', '  -t, --timestamp            Include timestamp on output'))
    for (const f of ['execsnoop', 'runqslower', 'biosnoop']) chmodSync(join(sbin, f), 0o755)
    const cgroup = join(root, 'cg')
    mkdirSync(cgroup)
    const dir = join(root, 'logs')
    await expect(record({ dir, durationMs: 100, tools: ['execsnoop'], sbin, cgroup })).rejects.toThrow(/not a cgroup v2 directory/)
    writeFileSync(join(cgroup, 'cgroup.procs'), '')
    const messages: string[] = []
    const meta = await record({ dir, durationMs: 300, tools: ['execsnoop', 'runqslower', 'biosnoop'], sbin, cgroup, onStatus: (m) => messages.push(m) })
    expect(meta.cgroup).toBe(cgroup)
    expect(meta.tools.execsnoop?.command.slice(3)).toEqual(['-T', '-t', '-U', '-x', '-c', cgroup])
    expect(meta.tools.biosnoop?.command.slice(3)).toEqual(['-t', '-c', cgroup])
    // runqslower cannot filter by cgroup: it traces everything, and says so
    expect(meta.tools.runqslower?.command.slice(3)).toEqual(['-P', '1000'])
    expect(messages).toContain('runqslower: traces every process (it has no cgroup filter)')
    expect(readFileSync(join(dir, 'execsnoop.log'), 'utf8').split('\n')[0]).toBe(`args: -T -t -U -x -c ${cgroup}`)
  })

  test('stopped early, record ends and its process exits: no timer of a long --duration left running', async ({ onTestFinished }) => {
    requireBuiltCli()
    const root = mkdtempSync(join(tmpdir(), 'tracedb-rec-stop-'))
    const sbin = join(root, 'sbin')
    mkdirSync(sbin)
    writeFileSync(join(sbin, 'execsnoop'), "#!/bin/bash\necho 'PCOMM            PID    PPID   RET ARGS'\ntrap 'exit 0' INT\nwhile :; do sleep 0.05; done\n")
    chmodSync(join(sbin, 'execsnoop'), 0o755)
    // a 10-minute recording, stopped as soon as it started; the process must end
    const script = `
      import { record } from ${JSON.stringify(join(import.meta.dirname, '..', '..', 'dist', 'record', 'record.js'))}
      let stop
      const stopSignal = new Promise((ok) => (stop = ok))
      const meta = await record({ dir: ${JSON.stringify(join(root, 'logs'))}, durationMs: 600000, tools: ['execsnoop'], sbin: ${JSON.stringify(sbin)}, stopSignal,
        onStatus: (m) => { if (m.startsWith('recording into')) stop() } })
      console.log('recorded', Object.keys(meta.tools).join())
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
    // should it hang (the bug), it must not outlive the test
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL')
    })
    let out = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString()))
    child.stderr.on('data', (b: Buffer) => (out += b.toString()))
    const code = await new Promise<number | null>((ok) => child.once('exit', ok))
    expect(code, out).toBe(0)
    expect(out).toMatch(/recorded execsnoop/)
  }, 60_000)

  test('for real: record execsnoop + exitsnoop around a workload; ingest has zero bad lines and absolute times', async ({ skip }) => {
    skip(why !== undefined, why)
    const root = mkdtempSync(join(tmpdir(), 'tracedb-rec-real-'))
    const dir = join(root, 'logs')
    const recording = record({ dir, durationMs: 2500, tools: ['execsnoop', 'exitsnoop'] })
    await new Promise((ok) => setTimeout(ok, 1500))
    await new Promise((ok) => spawn('bash', ['-c', '( /bin/true ); x=$(/usr/bin/id -u); /bin/echo $x > /dev/null']).once('exit', ok))
    const meta = await recording
    expect(Object.keys(meta.tools).sort()).toEqual(['execsnoop', 'exitsnoop'])
    expect(existsSync(join(dir, 'capture.json'))).toBe(true)
    const store = openStore(join(root, 'r.db'))
    try {
      const r = await ingest(store, { paths: [dir] })
      expect(r.warnings.filter((w) => w.includes('no date'))).toEqual([])
      expect(r.files.map((f) => f.bad)).toEqual([0, 0])
      const untimed = store.sqlite.prepare('SELECT count(*) FROM execsnoop_event WHERE ts IS NULL').pluck().get()
      expect(untimed).toBe(0)
      expect(Number(store.sqlite.prepare("SELECT count(*) FROM execsnoop_event WHERE comm = 'id'").pluck().get())).toBeGreaterThan(0)
    } finally {
      store.close()
    }
  }, 60_000)

  test(
    'for real: every tool that works here, around exec, open, signal and a loopback TCP connection; all rows timed, none bad',
    async ({ skip }) => {
      skip(why !== undefined, why)
      const root = mkdtempSync(join(tmpdir(), 'tracedb-rec-all-'))
      const dir = join(root, 'logs')
      const tools = ['execsnoop', 'exitsnoop', 'tcpstates', 'tcplife', 'opensnoop', 'killsnoop', 'drsnoop', 'runqslower']
      const recording = record({ dir, durationMs: 3500, tools })
      await new Promise((ok) => setTimeout(ok, 2000))
      // a TCP connection over loopback, served and closed by this test
      const server = createServer((sock) => sock.end('hello\n'))
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
      const port = (server.address() as { port: number }).port
      await new Promise<void>((ok, fail) => {
        const c = connect(port, '127.0.0.1')
        c.on('data', () => c.end())
        c.on('close', () => ok())
        c.on('error', fail)
      })
      await new Promise<void>((ok) => server.close(() => ok()))
      await new Promise((ok) => spawn('bash', ['-c', 'cat /etc/hostname > /dev/null; sleep 5 & kill -TERM $!; wait']).once('exit', ok))
      const meta = await recording
      const recorded = Object.keys(meta.tools).sort()
      expect(recorded).toEqual(expect.arrayContaining(['execsnoop', 'exitsnoop', 'tcpstates', 'tcplife']))
      // the libbpf tools that attach on this kind of kernel must not silently go missing
      for (const [tool, bin] of [['opensnoop', 'opensnoop'], ['killsnoop', 'sigsnoop'], ['runqslower', 'runqslower']]) if (existsSync(`/usr/sbin/${bin}`)) expect(recorded).toContain(tool)
      const store = openStore(join(root, 'r.db'))
      try {
        const r = await ingest(store, { paths: [dir] })
        expect(r.files.filter((f) => f.bad > 0).map((f) => `${f.path}: ${JSON.stringify(f.badExamples)}`)).toEqual([])
        // every row of every tool has an absolute time
        for (const f of r.files) {
          if (!f.format || f.records === 0) continue
          const untimed = store.sqlite.prepare(`SELECT count(*) FROM ${f.format}_event WHERE ts IS NULL`).pluck().get()
          expect(untimed, f.format).toBe(0)
        }
        const q = loadCatalog().get('handshakes')!
        const rows = runQuery(store, q, bindParams(q, [String(port)]), resolveCapture(store).id).rows
        expect(rows.map((x) => x.side).sort()).toEqual(['client', 'server'])
        expect(rows.every((x) => typeof x.handshake_ms === 'number')).toBe(true)
        if (recorded.includes('opensnoop')) {
          expect(Number(store.sqlite.prepare("SELECT count(*) FROM opensnoop_event WHERE path = '/etc/hostname'").pluck().get())).toBeGreaterThan(0)
        }
        // execsnoop -T -t: the ms since the tool started are in every row, and
        // that clock starts between capture.json's started_utc and header_utc
        const execRows = store.sqlite.prepare('SELECT ts, elapsed_s FROM execsnoop_event').all() as { ts: number; elapsed_s: number | null }[]
        expect(execRows.length).toBeGreaterThan(0)
        expect(execRows.filter((x) => x.elapsed_s === null)).toEqual([])
        const run = meta.tools.execsnoop!
        for (const x of execRows) {
          const wallSecond = Math.floor(Number(x.ts) / 1e9) * 1000
          expect(Date.parse(run.started_utc)).toBeLessThanOrEqual(wallSecond + 1000 - x.elapsed_s! * 1000 + 0.5)
          expect(wallSecond - x.elapsed_s! * 1000 - 0.5).toBeLessThanOrEqual(Date.parse(run.header_utc!))
        }
        if (recorded.includes('killsnoop')) {
          expect(Number(store.sqlite.prepare('SELECT count(*) FROM killsnoop_event WHERE sig = 15').pluck().get())).toBeGreaterThan(0)
        }
      } finally {
        store.close()
      }
    },
    60_000,
  )

  test('for real: record --watch ingests while recording, with the capture\'s date and zone, no guessing', async ({ skip }) => {
    skip(why !== undefined, why)
    requireBuiltCli()
    const root = mkdtempSync(join(tmpdir(), 'tracedb-rec-watch-'))
    const dir = join(root, 'logs')
    const db = join(root, 'w.db')
    const child = spawn(process.execPath, [CLI, 'record', dir, '--duration', '4s', '--tools', 'execsnoop,exitsnoop', '--watch', '--db', db], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    await new Promise((ok) => setTimeout(ok, 2500))
    await new Promise((ok) => spawn('bash', ['-c', '( /bin/true ); /usr/bin/id -u > /dev/null']).once('exit', ok))
    const code = await new Promise<number | null>((ok) => child.once('exit', ok))
    expect(code, err).toBe(0)
    expect(err).not.toMatch(/no date|assumed/)
    const store = openStore(db, { readonly: true })
    try {
      expect(Number(store.sqlite.prepare("SELECT count(*) FROM process WHERE comm = 'id'").pluck().get())).toBeGreaterThan(0)
      expect(store.sqlite.prepare('SELECT count(*) FROM execsnoop_event WHERE ts IS NULL').pluck().get()).toBe(0)
      expect(String(store.sqlite.prepare('SELECT meta FROM capture').pluck().get())).toMatch(/"start_utc"/)
    } finally {
      store.close()
    }
  }, 60_000)
})
