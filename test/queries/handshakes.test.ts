import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { ingest } from '../../src/ingest/ingest.js'
import { loadCatalog } from '../../src/queries/catalog.js'
import { bindParams, resolveCapture, runQuery } from '../../src/queries/run.js'
import { openStore, type Store } from '../../src/store/open.js'

/**
 * bcc's tcpstates without -T prints no time column: a connection's
 * transitions have no times, so established_ts stays NULL. Whether the
 * handshake completed comes from the -> ESTABLISHED transition itself.
 */
const pad = (s: string | number, n: number) => String(s).padEnd(n)
const row = (sk: string, pid: number, comm: string, l: string, lp: number, r: string, rp: number, from: string, to: string, ms: string) =>
  `${sk} ${pad(pid, 5)} ${pad(comm, 10)} ${pad(l, 15)} ${pad(lp, 5)} ${pad(r, 15)} ${pad(rp, 5)} ${pad(from, 11)} -> ${pad(to, 11)} ${ms}`

let store: Store
beforeAll(async () => {
  const base = mkdtempSync(join(tmpdir(), 'tracedb-handshakes-'))
  const real = join(base, 'real')
  mkdirSync(real)
  // a real bcc log (curl to port 80), no time column
  copyFileSync('test/fixtures/tcpstates/tcpstates.py-default.example.log', join(real, 'tcpstates.log'))
  const made = join(base, 'made')
  mkdirSync(made)
  writeFileSync(
    join(made, 'tcpstates.log'),
    [
      'SKADDR           C-PID C-COMM     LADDR           LPORT RADDR           RPORT OLDSTATE    -> NEWSTATE    MS',
      // refused: SYN_SENT straight to CLOSE
      row('ffff9fd7e8193000', 500, 'curl', '10.0.0.1', 0, '10.0.0.2', 81, 'CLOSE', 'SYN_SENT', '0.000'),
      row('ffff9fd7e8193000', 0, 'swapper/1', '10.0.0.1', 40001, '10.0.0.2', 81, 'SYN_SENT', 'CLOSE', '0.300'),
      // still in SYN_SENT when the log ends
      row('ffff9fd7e8194000', 501, 'curl', '10.0.0.1', 0, '10.0.0.2', 82, 'CLOSE', 'SYN_SENT', '0.000'),
    ].join('\n') + '\n',
  )
  store = openStore(':memory:')
  await ingest(store, { paths: [real], capture: 'real', date: '2026-11-28', tz: 'UTC' })
  await ingest(store, { paths: [made], capture: 'made', date: '2026-11-28', tz: 'UTC' })
})

const run = (capture: string) => {
  const q = loadCatalog().get('handshakes')!
  return runQuery(store, q, bindParams(q, []), resolveCapture(store, capture).id).rows
}

describe('handshakes without a time column', () => {
  test('a completed handshake is established, from its ESTABLISHED transition, though it has no time', () => {
    expect(run('real').map((r) => [r.side, r.remote, r.handshake_ms, r.result])).toEqual([['client', '52.33.159.26:80', 1.373, 'established']])
  })

  test('refused and unfinished handshakes are told apart', () => {
    expect(run('made').map((r) => [r.remote, r.result])).toEqual([
      ['10.0.0.2:81', 'failed: CLOSE>SYN_SENT>CLOSE'],
      ['10.0.0.2:82', 'handshake not finished in the capture'],
    ])
  })
})
