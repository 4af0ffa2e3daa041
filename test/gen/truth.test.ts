import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { generate } from '../../src/gen/generate.js'
import { ingest } from '../../src/ingest/ingest.js'
import { loadCatalog } from '../../src/queries/catalog.js'
import { bindParams, resolveCapture, runQuery } from '../../src/queries/run.js'
import { openStore } from '../../src/store/open.js'

describe('tracedb answers match the generator\'s truth', () => {
  test.each([
    ['libbpf, 7-digit PIDs', { variant: 'libbpf' as const, pidMax: 4_194_304, seed: 3 }],
    ['python layouts', { variant: 'python' as const, pidMax: 4_194_304, seed: 4 }],
    ['PID reuse: pid_max 2500 wraps several times', { variant: 'libbpf' as const, pidMax: 2500, seed: 5 }],
  ])('%s', async (_name, opts) => {
    const dir = mkdtempSync(join(tmpdir(), 'tracedb-gen-'))
    const truth = await generate(join(dir, 'logs'), { processes: 4000, ...opts })
    const store = openStore(join(dir, 'gen.db'))
    try {
      const report = await ingest(store, { paths: [join(dir, 'logs')], date: truth.date, tz: truth.tz })
      expect(report.files.reduce((a, f) => a + f.bad, 0)).toBe(0)
      const q = loadCatalog().get('descendants')!
      const capture = resolveCapture(store).id
      for (const root of truth.roots) {
        const rows = runQuery(store, q, bindParams(q, [String(root.pid)]), capture).rows
        const got = rows.map((r) => Number(r.pid)).sort((a, b) => a - b)
        expect(got, root.name).toEqual(root.pids)
      }
      // sshd's connections: one server side each, with the generated handshake and lifetime
      const c = loadCatalog().get('connections')!
      const sshd = truth.roots.find((r) => r.name === 'sshd')!
      const conns = runQuery(store, c, bindParams(c, [String(sshd.pid)]), capture).rows
      const byRemote = (a: unknown[], b: unknown[]) => String(a[1]).localeCompare(String(b[1]))
      expect(conns.map((r) => [r.side, r.remote, r.handshake_ms, r.lifetime_ms]).sort(byRemote)).toEqual(
        truth.connections.map((t) => ['server', `10.0.9.9:${String(t.rport)}`, t.handshakeMs, t.lifetimeMs]).sort(byRemote),
      )
      expect(truth.connections.length).toBeGreaterThan(10)
      if (opts.pidMax < 4000) {
        const reused = store.sqlite.prepare('SELECT count(*) FROM (SELECT pid FROM process GROUP BY pid HAVING count(*) > 1)').pluck().get()
        expect(Number(reused)).toBeGreaterThan(100)
      }
    } finally {
      store.close()
    }
  })
})
