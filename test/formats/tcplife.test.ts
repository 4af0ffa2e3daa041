import { describe, expect, test } from 'vitest'
import tcpaccept from '../../src/formats/tcpaccept.js'
import tcpconnect from '../../src/formats/tcpconnect.js'
import tcpconnlat from '../../src/formats/tcpconnlat.js'
import tcplife from '../../src/formats/tcplife.js'
import tcpretrans from '../../src/formats/tcpretrans.js'
import tcpstates from '../../src/formats/tcpstates.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'

testFormatFixtures(tcplife)

const parse = (header: string, line: string, newline = true) =>
  parseText(`${header}\n${line}${newline ? '\n' : ''}`, [tcplife])
const record = (header: string, line: string) => parse(header, line).records[0]

const LIBBPF = 'PID     COMM             LADDR           LPORT RADDR           RPORT TX_KB  RX_KB  MS'
const LIBBPF_T = `TIME(s)  ${LIBBPF}`
const LIBBPF_W = 'PID     COMM             LADDR                      LPORT RADDR                      RPORT TX_KB  RX_KB  MS'
const PY = 'PID   COMM       LADDR           LPORT RADDR           RPORT TX_KB RX_KB MS'
const PY_W = 'PID   COMM             IP LADDR                                   LPORT RADDR                                   RPORT  TX_KB  RX_KB MS'
const PY_TT = `TIME     TIME(s)   ${PY}`
const PY_CSV = 'TIME,TIME(s),PID,COMM,IP,LADDR,LPORT,RADDR,RPORT,TX_KB,RX_KB,MS'

describe('tcplife detect', () => {
  test.each([
    [LIBBPF, { variant: 'libbpf', flags: [], clock: false, relative: false, ip: false, csv: false }],
    [LIBBPF_T, { variant: 'libbpf', flags: ['-T'], clock: true, relative: false, ip: false, csv: false }],
    [LIBBPF_W, { variant: 'libbpf', flags: ['-w'], clock: false, relative: false, ip: false, csv: false }],
    [`TIME(s)  ${LIBBPF_W}`, { variant: 'libbpf', flags: ['-T', '-w'], clock: true, relative: false, ip: false, csv: false }],
    [PY, { variant: 'python', flags: [], clock: false, relative: false, ip: false, csv: false }],
    [`TIME     ${PY}`, { variant: 'python', flags: ['-T'], clock: true, relative: false, ip: false, csv: false }],
    [`TIME(s)   ${PY}`, { variant: 'python', flags: ['-t'], clock: false, relative: true, ip: false, csv: false }],
    [PY_TT, { variant: 'python', flags: ['-T', '-t'], clock: true, relative: true, ip: false, csv: false }],
    [PY_W, { variant: 'python', flags: ['-w'], clock: false, relative: false, ip: true, csv: false }],
    [PY_CSV, { variant: 'python', flags: ['-T', '-t', '-s'], clock: true, relative: true, ip: true, csv: true }],
    ['PID,COMM,IP,LADDR,LPORT,RADDR,RPORT,TX_KB,RX_KB,MS', { variant: 'python', flags: ['-s'], clock: false, relative: false, ip: true, csv: true }],
    ['17306   curl             127.0.0.1       8099  127.0.0.1       43220 300.20 0.08   0.99', undefined],
    ['PID   COMM       LADDR           LPORT RADDR           RPORT TX_KB RX_KB', undefined],
  ])('%s', (line, expected) => {
    expect(tcplife.detect(line)).toEqual(expected)
  })

  test('does not claim the other TCP tools\' headers', () => {
    for (const f of [tcpstates, tcpretrans, tcpconnect, tcpaccept, tcpconnlat])
      for (const s of f.samples) expect(tcplife.detect(s.header), s.header).toBeUndefined()
  })
})

describe('tcplife rows', () => {
  test.each([
    [
      'libbpf: float KB, v4-mapped addresses overflow the 15-wide columns, IP derived',
      LIBBPF,
      '17261   python3          ::ffff:127.0.0.1 51738 ::ffff:127.0.0.1 8098  195.31 195.31 0.19',
      { pid: 17261, comm: 'python3', ip: 6, laddr: '::ffff:127.0.0.1', lport: 51738, raddr: '::ffff:127.0.0.1', rport: 8098, tx_kb: 195.31, rx_kb: 195.31, ms: 0.19, elapsed_s: null },
    ],
    [
      'libbpf: COMM with spaces (16 wide), refused connect with 0 bytes',
      LIBBPF,
      '2001    Web Content      127.0.0.1       46868 127.0.0.1       8097  0.00   0.00   0.34',
      { pid: 2001, comm: 'Web Content', ip: 4, tx_kb: 0, rx_kb: 0, ms: 0.34 },
    ],
    [
      'libbpf: big KB values and a long lifetime push the columns',
      LIBBPF,
      '17261   python3          127.0.0.1       8099  127.0.0.1       43226 1234567.89 0.18   86400000.00',
      { tx_kb: 1234567.89, rx_kb: 0.18, ms: 86400000 },
    ],
    [
      'Python: integer KB right-aligned, COMM cut to 10',
      PY,
      '7619  sshd       100.66.3.172    22    100.127.64.230  63033     5 10255 3066.79',
      { pid: 7619, comm: 'sshd', ip: 4, lport: 22, rport: 63033, tx_kb: 5, rx_kb: 10255, ms: 3066.79 },
    ],
    [
      'Python: COMM with a space, 7-digit PID',
      PY,
      '4194303 Web Conten 127.0.0.1       50894 127.0.0.1       28527     0     0 0.25',
      { pid: 4194303, comm: 'Web Conten', lport: 50894 },
    ],
    [
      'Python -w: printed IP column',
      PY_W,
      `26320 ssh              6  ${'fe80::8a3:9dff:fed5:6b19'.padEnd(39)} 22440 ${'fe80::8a3:9dff:fed5:6b19'.padEnd(39)} 22         1      1 457.52`,
      { pid: 26320, comm: 'ssh', ip: 6, laddr: 'fe80::8a3:9dff:fed5:6b19', lport: 22440, rport: 22, tx_kb: 1, rx_kb: 1, ms: 457.52 },
    ],
  ])('%s', (_name, header, line, expected) => {
    expect(record(header, line)?.values).toMatchObject(expected)
  })

  test('libbpf -T: header TIME(s), HH:MM:SS values', () => {
    const r = record(LIBBPF_T, '03:34:38 17401   python3          127.0.0.1       8099  127.0.0.1       60932 0.18   0.03   1201.21')!
    expect(r.time).toEqual({ kind: 'clock', hour: 3, minute: 34, second: 38, utc: false })
    expect(r.timeText).toBe('03:34:38')
    expect(r.values).toMatchObject({ ms: 1201.21, elapsed_s: null })
  })

  test('Python -T -t: clock is the record time, TIME(s) in elapsed_s', () => {
    const r = record(PY_TT, '23:39:39 1.025078  7358  recordProg 127.0.0.1       48100 127.0.0.1       28527     0     0 0.25')!
    expect(r.time).toEqual({ kind: 'clock', hour: 23, minute: 39, second: 39, utc: false })
    expect(r.values).toMatchObject({ pid: 7358, elapsed_s: 1.025078 })
  })

  test('Python -t alone: relative record time with 6 decimals', () => {
    const r = record(`TIME(s)   ${PY}`, '2.044868  6019  recordProg 127.0.0.1       47990 127.0.0.1       28527     0     0 0.24')!
    expect(r.time).toEqual({ kind: 'relative', seconds: 2.044868, since: 'first_event', decimals: 6 })
  })

  test('Python CSV: COMM not truncated and may contain commas', () => {
    const r = record(PY_CSV, '23:39:38,0.000064,3277,redis,server x,6,::1,28527,::1,48098,12,34,0.32')!
    expect(r.values).toEqual({
      pid: 3277, comm: 'redis,server x', ip: 6, laddr: '::1', lport: 28527, raddr: '::1', rport: 48098, tx_kb: 12, rx_kb: 34, ms: 0.32, elapsed_s: 0.000064,
    })
  })

  test.each([
    ['a truncated MS (no newline)', LIBBPF, '17261   python3          127.0.0.1       8099  127.0.0.1       43226 0.18   0.03   1201.2', false, /truncated last line/],
    ['a row missing RX_KB', LIBBPF, '17261   python3          127.0.0.1       8099  127.0.0.1       43226 0.18   1201.26', true, /not a tcplife row: expected PID, COMM, LADDR/],
    ['a CSV row with a non-numeric MS', PY_CSV, '23:39:38,0.000064,3277,redis-server,4,127.0.0.1,28527,127.0.0.1,48098,0,0,x', true, /MS "x"/],
  ])('%s is bad with a reason', (_name, header, line, newline, reason) => {
    expect(parse(header, line, newline).lines[1]).toMatchObject({ kind: 'bad', detail: expect.stringMatching(reason) })
  })

  test('lost events are messages', () => {
    const p = parse(LIBBPF, 'lost 12 events on CPU #0')
    expect(p.lines[1]).toMatchObject({ kind: 'message' })
  })
})
