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
    expect(meta.tools.execsnoop?.command).toEqual(['stdbuf', '-oL', join(sbin, 'execsnoop'), '-T', '-U', '-x'])
    expect(readFileSync(join(dir, 'execsnoop.log'), 'utf8')).toMatch(/4242/) // the row printed at SIGINT was kept
    expect(JSON.parse(readFileSync(join(dir, 'capture.json'), 'utf8'))).toMatchObject({ tz: expect.any(String), start_utc: meta.start_utc })
    expect(messages.join('\n')).toMatch(/exitsnoop: FAILED/)
  })

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
      const tools = ['execsnoop', 'exitsnoop', 'tcpstates', 'tcplife', 'opensnoop', 'killsnoop', 'drsnoop']
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
      for (const [tool, bin] of [['opensnoop', 'opensnoop'], ['killsnoop', 'sigsnoop']]) if (existsSync(`/usr/sbin/${bin}`)) expect(recorded).toContain(tool)
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
