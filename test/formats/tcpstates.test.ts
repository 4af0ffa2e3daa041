import { describe, expect, test } from 'vitest'
import tcpaccept from '../../src/formats/tcpaccept.js'
import tcpconnect from '../../src/formats/tcpconnect.js'
import tcpconnlat from '../../src/formats/tcpconnlat.js'
import tcplife from '../../src/formats/tcplife.js'
import tcpretrans from '../../src/formats/tcpretrans.js'
import tcpstates from '../../src/formats/tcpstates.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'

testFormatFixtures(tcpstates)

const parse = (header: string, line: string, newline = true) =>
  parseText(`${header}\n${line}${newline ? '\n' : ''}`, [tcpstates])
const record = (header: string, line: string) => parse(header, line).records[0]

const LIBBPF = 'SKADDR           PID     COMM       LADDR           LPORT RADDR           RPORT OLDSTATE    -> NEWSTATE    MS'
const LIBBPF_T = `TIME(s)  ${LIBBPF}`
const LIBBPF_W =
  'SKADDR           PID     COMM             IP LADDR                      LPORT RADDR                      RPORT OLDSTATE    -> NEWSTATE    MS'
const PY = 'SKADDR           C-PID C-COMM     LADDR           LPORT RADDR           RPORT OLDSTATE    -> NEWSTATE    MS'
const PY_TT = `TIME     TIME(s)   ${PY}`
const PY_W =
  'SKADDR           C-PID C-COMM           IP LADDR                                   LPORT RADDR                                   RPORT OLDSTATE    -> NEWSTATE    MS'
const PY_CSV = 'TIME,TIME(s),SKADDR,C-PID,C-COMM,IP,LADDR,LPORT,RADDR,RPORT,OLDSTATE,NEWSTATE,MS'

describe('tcpstates detect', () => {
  test.each([
    [LIBBPF, { variant: 'libbpf', flags: [], clock: false, relative: false, ip: false, csv: false }],
    [LIBBPF_T, { variant: 'libbpf', flags: ['-T'], clock: true, relative: false, ip: false, csv: false }],
    [LIBBPF_W, { variant: 'libbpf', flags: ['-w'], clock: false, relative: false, ip: true, csv: false }],
    [PY, { variant: 'python', flags: [], clock: false, relative: false, ip: false, csv: false }],
    [`TIME     ${PY}`, { variant: 'python', flags: ['-T'], clock: true, relative: false, ip: false, csv: false }],
    [`TIME(s)   ${PY}`, { variant: 'python', flags: ['-t'], clock: false, relative: true, ip: false, csv: false }],
    [PY_TT, { variant: 'python', flags: ['-T', '-t'], clock: true, relative: true, ip: false, csv: false }],
    [PY_W, { variant: 'python', flags: ['-w'], clock: false, relative: false, ip: true, csv: false }],
    [PY_CSV, { variant: 'python', flags: ['-T', '-t', '-s'], clock: true, relative: true, ip: true, csv: true }],
    ['SKADDR,C-PID,C-COMM,IP,LADDR,LPORT,RADDR,RPORT,OLDSTATE,NEWSTATE,MS', { variant: 'python', flags: ['-s'], clock: false, relative: false, ip: true, csv: true }],
    ['ffff88813e8b09c0 18120   python3    ::ffff:127.0.0.1 8098  ::              0     CLOSE       -> LISTEN      0.000', undefined],
    ['SKADDR', undefined],
    [`TIME     ${LIBBPF}`, undefined], // libbpf never prints TIME
    ['SKADDR           PID     COMM       LADDR           LPORT RADDR           RPORT OLDSTATE    NEWSTATE    MS', undefined],
  ])('%s', (line, expected) => {
    expect(tcpstates.detect(line)).toEqual(expected)
  })

  test('does not claim the other TCP tools\' headers', () => {
    for (const f of [tcplife, tcpretrans, tcpconnect, tcpaccept, tcpconnlat])
      for (const s of f.samples) expect(tcpstates.detect(s.header), s.header).toBeUndefined()
  })
})

describe('tcpstates rows', () => {
  test.each([
    [
      'libbpf: MS 0.000 (first transition seen) is NULL, listening socket placeholders NULL',
      LIBBPF,
      'ffff888102e1ca00 18161   python3    127.0.0.1       8099  0.0.0.0         0     CLOSE       -> LISTEN      0.000',
      { skaddr: 'ffff888102e1ca00', pid: 18161, comm: 'python3', ip: 4, laddr: '127.0.0.1', lport: 8099, raddr: null, rport: null, oldstate: 'CLOSE', newstate: 'LISTEN', ms: null, elapsed_s: null },
    ],
    [
      'libbpf: v4-mapped IPv6 overflows the 15-wide columns, `::` is NULL',
      LIBBPF,
      'ffff88813e8b09c0 18120   python3    ::ffff:127.0.0.1 8098  ::              0     LISTEN      -> CLOSE       2332.482',
      { ip: 6, laddr: '::ffff:127.0.0.1', lport: 8098, raddr: null, rport: null, oldstate: 'LISTEN', newstate: 'CLOSE', ms: 2332.482 },
    ],
    [
      'libbpf: LPORT 0 in CLOSE -> SYN_SENT is NULL',
      LIBBPF,
      'ffff888102e1ae40 18184   curl       127.0.0.1       0     127.0.0.1       8099  CLOSE       -> SYN_SENT    0.000',
      { lport: null, rport: 8099, newstate: 'SYN_SENT', ms: null },
    ],
    [
      'libbpf: COMM with a space (cut to 10)',
      LIBBPF,
      'ffff888102e1ae40 4242    Web Conten 10.0.0.1        51000 10.0.0.2        443   SYN_SENT    -> ESTABLISHED 12.345',
      { pid: 4242, comm: 'Web Conten', laddr: '10.0.0.1', lport: 51000, raddr: '10.0.0.2', rport: 443, ms: 12.345 },
    ],
    [
      'libbpf -w: COMM with spaces, 16 wide, IP column',
      LIBBPF_W,
      'ffff888102e1ae40 4242    Web Content      6  2001:db8::1                443   2001:db8::2                51000 ESTABLISHED -> FIN_WAIT1   1.000',
      { comm: 'Web Content', ip: 6, laddr: '2001:db8::1', lport: 443, raddr: '2001:db8::2', rport: 51000, ms: 1 },
    ],
    [
      'libbpf: UNKNOWN and (null) states are NULL',
      LIBBPF,
      'ffff888102e1ae40 0       swapper/1  10.0.0.1        51000 10.0.0.2        443   UNKNOWN     -> (null)      0.120',
      { pid: 0, comm: 'swapper/1', oldstate: null, newstate: null, ms: 0.12 },
    ],
    [
      'Python: an unknown state prints as a number (NULL); multi-byte COMM',
      PY,
      'ffff9fd7e8192000 22384 prøve      100.66.100.185  63446 52.33.159.26    80    13          -> CLOSE       0.006',
      { pid: 22384, comm: 'prøve', oldstate: null, newstate: 'CLOSE' },
    ],
    [
      'Python: a 7-digit PID overflows its 5-wide column',
      PY,
      'ffff9fd7e8192000 4194303 curl       100.66.100.185  63446 52.33.159.26    80    SYN_SENT    -> ESTABLISHED 1.373',
      { pid: 4194303, comm: 'curl', lport: 63446 },
    ],
    [
      'Python -w: IPv6 in the 39-wide columns',
      PY_W,
      `ffff9fd7e8192000 1234  sshd             6  ${'fe80::8a3:9dff:fed5:6b19'.padEnd(39)} 22    ${'fe80::8a3:9dff:fed5:6b19'.padEnd(39)} 22440 ESTABLISHED -> CLOSE_WAIT  457.520`,
      { comm: 'sshd', ip: 6, laddr: 'fe80::8a3:9dff:fed5:6b19', lport: 22, rport: 22440, newstate: 'CLOSE_WAIT', ms: 457.52 },
    ],
  ])('%s', (_name, header, line, expected) => {
    expect(record(header, line)?.values).toMatchObject(expected)
  })

  test('libbpf -T: header TIME(s) but HH:MM:SS local clock values', () => {
    const r = record(LIBBPF_T, '03:36:41 ffff888102e1b780 18547   python3    127.0.0.1       8099  127.0.0.1       43758 ESTABLISHED -> FIN_WAIT1   1200.894')!
    expect(r.time).toEqual({ kind: 'clock', hour: 3, minute: 36, second: 41, utc: false })
    expect(r.timeText).toBe('03:36:41')
    expect(r.values).toMatchObject({ skaddr: 'ffff888102e1b780', ms: 1200.894, elapsed_s: null })
  })

  test('Python -t: seconds since the first event', () => {
    const r = record(`TIME(s)   ${PY}`, '1.234567  ffff9fd7e8192000 22384 curl       100.66.100.185  0     52.33.159.26    80    CLOSE       -> SYN_SENT    0.000')!
    expect(r.time).toEqual({ kind: 'relative', seconds: 1.234567, since: 'first_event', decimals: 6 })
    expect(r.values).toMatchObject({ elapsed_s: 1.234567, lport: null })
  })

  test('Python -T -t: the clock is the record time, TIME(s) goes to elapsed_s', () => {
    const r = record(PY_TT, '23:59:58 12.000001 ffff9fd7e8192000 22384 curl       100.66.100.185  0     52.33.159.26    80    CLOSE       -> SYN_SENT    0.000')!
    expect(r.time).toEqual({ kind: 'clock', hour: 23, minute: 59, second: 58, utc: false })
    expect(r.timeText).toBe('23:59:58')
    expect(r.values).toMatchObject({ elapsed_s: 12.000001, pid: 22384 })
  })

  test('Python CSV: COMM with commas and spaces, no `->`', () => {
    const r = record(PY_CSV, '10:00:01,0.500000,ffff9fd7e8192000,22384,a, b,c,6,::1,8080,::1,41000,SYN_RECV,ESTABLISHED,0.042')!
    expect(r.values).toEqual({
      skaddr: 'ffff9fd7e8192000', pid: 22384, comm: 'a, b,c', ip: 6, laddr: '::1', lport: 8080, raddr: '::1', rport: 41000,
      oldstate: 'SYN_RECV', newstate: 'ESTABLISHED', ms: 0.042, elapsed_s: 0.5,
    })
    expect(r.time).toEqual({ kind: 'clock', hour: 10, minute: 0, second: 1, utc: false })
  })

  test.each([
    ['a truncated MS (kill -9 mid-row, no newline)', LIBBPF, 'ffff888102e1ca00 18161   python3    127.0.0.1       8099  0.0.0.0         0     LISTEN      -> CLOSE       22', false, /truncated last line/],
    ['a row cut mid-address', LIBBPF, 'ffff888102e1ca00 18161   python3    127.0.', false, /truncated last line/],
    ['a row without `->`', LIBBPF, 'ffff888102e1ca00 18161   python3    127.0.0.1       8099  0.0.0.0         0     LISTEN      CLOSE       1.000', true, /not a tcpstates row: expected SKADDR/],
    ['a CSV row with a bad port', PY_CSV, '10:00:01,0.5,ffff,1,curl,4,1.2.3.4,x,5.6.7.8,80,CLOSE,SYN_SENT,0.000', true, /LPORT "x" is not a number/],
    ['a CSV row with too few fields', PY_CSV, '10:00:01,0.5,ffff,1,curl', true, /expected 13 comma-separated fields, found 5/],
  ])('%s is bad with a reason', (_name, header, line, newline, reason) => {
    const p = parse(header, line, newline)
    expect(p.lines[1]).toMatchObject({ kind: 'bad', detail: expect.stringMatching(reason) })
  })

  test('lost events, libbpf errors and HEAD `Error: packet too small` are messages; a second header switches layout', () => {
    const p = parseText(
      [
        LIBBPF,
        'lost 3 events on CPU #1',
        'Error: packet too small',
        'ffff888102e1ca00 18161   python3    127.0.0.1       8099  0.0.0.0         0     CLOSE       -> LISTEN      0.000',
        LIBBPF_T,
        '03:36:14 ffff888102e1ca00 18161   python3    127.0.0.1       8099  0.0.0.0         0     LISTEN      -> CLOSE       5.000',
      ].join('\n') + '\n',
      [tcpstates],
    )
    expect(p.lines.map((l) => l.kind)).toEqual(['header', 'message', 'message', 'record', 'header', 'record'])
    expect(p.layout).toMatchObject({ clock: true })
    expect(p.records[1]?.time).toMatchObject({ kind: 'clock', hour: 3 })
  })
})
