import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { ingest } from '../../src/ingest/ingest.js'
import { record } from '../../src/record/record.js'
import { openStore } from '../../src/store/open.js'
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

  test.skipIf(why !== undefined)('for real: record execsnoop + exitsnoop around a workload; ingest has zero bad lines and absolute times', async () => {
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
})
