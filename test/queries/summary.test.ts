import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { ingest } from '../../src/ingest/ingest.js'
import { loadCatalog } from '../../src/queries/catalog.js'
import { bindParams, resolveCapture, runQuery } from '../../src/queries/run.js'
import { openStore, type Store } from '../../src/store/open.js'
import { EXECSNOOP_T_U_X_HEADER, EXITSNOOP_T_HEADER, execLine, exitLine } from '../helpers/logs.js'

/**
 * A small capture where every section of `summary` has something to say:
 * daemon 100 starts worker 101 (I/O, a connection with retransmits); 102 is
 * outside the tree and does I/O and all the opens. filelife was not
 * captured at all.
 */
const pad = (s: string | number, n: number) => String(s).padEnd(n)
const stateLine = (t: string, sk: string, pid: number, comm: string, l: string, lp: number, r: string, rp: number, from: string, to: string, ms: string) =>
  `${t} ${sk} ${pad(pid, 7)} ${pad(comm, 10)} ${pad(l, 15)} ${pad(lp, 5)} ${pad(r, 15)} ${pad(rp, 5)} ${pad(from, 11)} -> ${pad(to, 11)} ${ms}`

let store: Store
beforeAll(async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'tracedb-summary-')), 'cap')
  mkdirSync(dir)
  writeFileSync(
    join(dir, 'execsnoop.log'),
    [
      EXECSNOOP_T_U_X_HEADER,
      execLine('10:00:00', 100, 1, 'daemon', '/usr/sbin/daemon'),
      execLine('10:00:01', 101, 100, 'worker', '/usr/bin/worker --job 1'),
      execLine('10:00:01', 102, 1, 'other', '/usr/bin/other'),
    ].join('\n') + '\n',
  )
  writeFileSync(join(dir, 'exitsnoop.log'), [EXITSNOOP_T_HEADER, exitLine('10:00:05.500', 101, 100, 'worker', 4.6)].join('\n') + '\n')
  writeFileSync(
    join(dir, 'biosnoop.log'),
    [
      'TIME(s)     COMM           PID    DISK    T SECTOR     BYTES   LAT(ms)',
      '0.000004    worker         101    xvda1   W 13092560   4096       0.74',
      '0.000178    worker         101    xvda1   R 13092432   4096       1.26',
      '0.001469    other          102    xvda1   W 13092440   8192       1.24',
    ].join('\n') + '\n',
  )
  writeFileSync(join(dir, 'opensnoop.log'), ['TIME     PID    COMM              FD ERR PATH', '10:00:02 102    other              3   0 /etc/hostname'].join('\n') + '\n')
  const sk = 'ffff88810ae65c80'
  writeFileSync(
    join(dir, 'tcpstates.log'),
    [
      'TIME(s)  SKADDR           PID     COMM       LADDR           LPORT RADDR           RPORT OLDSTATE    -> NEWSTATE    MS',
      stateLine('10:00:02', sk, 101, 'worker', '10.0.0.1', 0, '10.0.0.2', 443, 'CLOSE', 'SYN_SENT', '0.000'),
      stateLine('10:00:02', sk, 101, 'worker', '10.0.0.1', 40000, '10.0.0.2', 443, 'SYN_SENT', 'ESTABLISHED', '1.500'),
      stateLine('10:00:04', sk, 101, 'worker', '10.0.0.1', 40000, '10.0.0.2', 443, 'ESTABLISHED', 'FIN_WAIT1', '2000.000'),
      stateLine('10:00:04', sk, 0, 'swapper/0', '10.0.0.1', 40000, '10.0.0.2', 443, 'FIN_WAIT1', 'FIN_WAIT2', '0.100'),
      stateLine('10:00:04', sk, 0, 'swapper/0', '10.0.0.1', 40000, '10.0.0.2', 443, 'FIN_WAIT2', 'CLOSE', '0.020'),
    ].join('\n') + '\n',
  )
  writeFileSync(
    join(dir, 'tcpretrans.log'),
    [
      'TIME     PID    IP LADDR:LPORT          T> RADDR:RPORT          STATE',
      '10:00:03 0      4  10.0.0.1:40000       R> 10.0.0.2:443         ESTABLISHED',
      '10:00:03 0      4  10.0.0.1:40000       R> 10.0.0.2:443         ESTABLISHED',
      '10:00:03 0      4  10.0.0.1:40000       L> 10.0.0.2:443         ESTABLISHED',
    ].join('\n') + '\n',
  )
  store = openStore(':memory:')
  const report = await ingest(store, { paths: [dir], date: '2026-11-28', tz: 'UTC' })
  expect(report.files.map((f) => [f.format, f.bad])).toEqual([
    ['biosnoop', 0],
    ['execsnoop', 0],
    ['exitsnoop', 0],
    ['opensnoop', 0],
    ['tcpretrans', 0],
    ['tcpstates', 0],
  ])
})

const run = (name: string, ...args: string[]) => {
  const q = loadCatalog().get(name)!
  return runQuery(store, q, bindParams(q, args), resolveCapture(store).id).rows
}

describe('summary', () => {
  test('each section: data of the tree only, "no data" when the tool saw nothing of it, "tool not captured" when absent', () => {
    const rows = run('summary', '100')
    const get = (section: string, item: string) => rows.find((r) => r.section === section && r.item === item)
    expect(get('descendants', 'total')?.value).toBe(1)
    expect(get('block I/O', 'I/Os')).toMatchObject({ value: 2, detail: '1 reads, 1 writes' })
    expect(get('block I/O', 'bytes')?.value).toBe(8192)
    expect(get('opens', 'status')?.detail).toBe('no data: opensnoop was captured, nothing from this tree')
    expect(get('short-lived files', 'status')?.detail).toBe('tool not captured: no filelife log in this capture')
    expect(get('tcp', 'connections')).toMatchObject({ value: 1, detail: '0 server side, 1 client side' })
    expect(get('tcp', 'handshake avg ms')?.value).toBe(1.5)
    expect(get('tcp', 'retransmits')).toMatchObject({ value: 2, detail: '1 tail loss probes' })
    // the other process's tree: its I/O, its opens, no connection
    const other = run('summary', '102')
    expect(other.find((r) => r.section === 'block I/O' && r.item === 'bytes')?.value).toBe(8192)
    expect(other.find((r) => r.section === 'opens' && r.item === 'opens')?.value).toBe(1)
    expect(other.find((r) => r.section === 'tcp')?.detail).toBe('no data: tcpstates was captured, nothing from this tree')
  })

  test('retransmits and connections: -l loss probes counted apart, swapper on the chain is not the tree', () => {
    expect(run('retransmits').map((r) => [r.kind, r.local, r.remote, r.connection_id])).toEqual([
      ['retransmit', '10.0.0.1:40000', '10.0.0.2:443', 1],
      ['retransmit', '10.0.0.1:40000', '10.0.0.2:443', 1],
      ['loss probe', '10.0.0.1:40000', '10.0.0.2:443', 1],
    ])
    const conns = run('connections', '100')
    expect(conns.map((r) => [r.side, r.handshake_ms, r.retransmits, r.loss_probes, r.evidence, r.others])).toEqual([
      ['client', 1.5, 2, 1, 'worker 101 (tcpstates)', 'swapper/0 0'],
    ])
    expect(run('connections', '102')).toEqual([])
  })
})
