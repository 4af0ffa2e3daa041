import { describe, expect, test } from 'vitest'
import tcpaccept from '../../src/formats/tcpaccept.js'
import tcpconnect from '../../src/formats/tcpconnect.js'
import tcpconnlat from '../../src/formats/tcpconnlat.js'
import tcplife from '../../src/formats/tcplife.js'
import tcpretrans from '../../src/formats/tcpretrans.js'
import tcpstates from '../../src/formats/tcpstates.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'

testFormatFixtures(tcpconnect, {
  noHeader: ['tcpconnect.libbpf-c.attach-failure.captured.log', 'tcpconnect.libbpf-default.attach-failure.captured.log'],
})

const parse = (header: string, line: string, newline = true) =>
  parseText(`${header}\n${line}${newline ? '\n' : ''}`, [tcpconnect])
const record = (header: string, line: string) => parse(header, line).records[0]

const BANNER = 'Tracing connect ... Hit Ctrl-C to end'
// Python >= 0.25: `%-7s` PID, trailing space after DPORT
const PY = 'PID     COMM         IP SADDR            DADDR            DPORT '
const PY_TUL = 'TIME(s)  UID   PID     COMM         IP SADDR            LPORT  DADDR            DPORT  QUERY'
const PY_D = 'PID     COMM         IP SADDR            DADDR            DPORT  QUERY'
const LIBBPF_026 = 'PID    COMM         IP SADDR            DADDR            DPORT'
const LIBBPF_TUS = 'TIME(s)  UID   PID    COMM             IP SADDR            DADDR            SPORT DPORT'
const COUNT = 'LADDR                     RADDR                     RPORT                CONNECTS  '
const COUNT_S = 'LADDR                     RADDR                     LPORT                RPORT                CONNECTS  '

const base = { mode: 'event', time: false, uid: false, lport: false, sport: false, query: false, commWidth: 12 }

describe('tcpconnect detect', () => {
  test.each([
    [BANNER, 'banner'],
    [PY, { ...base, variant: 'python', flags: [] }],
    [PY_TUL, { ...base, variant: 'python', flags: ['-t', '-U', '-L', '-d'], time: true, uid: true, lport: true, query: true }],
    [LIBBPF_026, { ...base, variant: 'libbpf-or-python-0.24', flags: [] }],
    [LIBBPF_TUS, { ...base, variant: 'libbpf', flags: ['-t', '-U', '-s'], time: true, uid: true, sport: true, commWidth: 16 }],
    ['PID    COMM             IP SADDR            DADDR            DPORT', { ...base, variant: 'libbpf', flags: [], commWidth: 16 }],
    [COUNT, { ...base, variant: 'libbpf-or-python', flags: ['-c'], mode: 'count' }],
    [COUNT_S, { ...base, variant: 'libbpf', flags: ['-c', '-s'], mode: 'count', sport: true }],
    ['PID    COMM         IP SADDR            DADDR            DPORT LAT(ms)', undefined], // tcpconnlat
    ['1479   telnet       4  127.0.0.1        127.0.0.1        23', undefined],
  ])('%s', (line, expected) => {
    expect(tcpconnect.detect(line)).toEqual(expected)
  })

  test('does not claim the other TCP tools\' headers or banners', () => {
    for (const f of [tcpstates, tcplife, tcpretrans, tcpaccept, tcpconnlat])
      for (const s of f.samples) expect(tcpconnect.detect(s.header), s.header).toBeUndefined()
    expect(tcpconnect.detect('Tracing retransmits ... Hit Ctrl-C to end')).toBeUndefined()
  })
})

describe('tcpconnect rows', () => {
  test.each([
    [
      'Python: rows end with a space (empty QUERY)',
      PY,
      '31338   telnet       4  127.0.0.1        127.0.0.1        23     ',
      { mode: 'event', uid: null, pid: 31338, comm: 'telnet', ip: 4, saddr: '127.0.0.1', sport: null, daddr: '127.0.0.1', dport: 23, query: null, dns_age_ms: null, count: null },
    ],
    [
      'IPv6 addresses overflow the 16-wide columns; COMM with a space',
      LIBBPF_026,
      '2015   Web Content  6  fe80::2000:bff:fe82:3ac fe80::2000:bff:fe82:3ac 22',
      { pid: 2015, comm: 'Web Content', ip: 6, saddr: 'fe80::2000:bff:fe82:3ac', daddr: 'fe80::2000:bff:fe82:3ac', dport: 22 },
    ],
    [
      '-t -U -L -d: TIME(s) >= 10000 s and a 6-digit UID touch their neighbours; QUERY with a delay',
      PY_TUL,
      '10000.1231000002482    local_agent  4  10.103.219.236   41000  10.251.148.38    7001   www.domain.com (123.342ms)',
      { uid: 100000, pid: 2482, comm: 'local_agent', sport: 41000, daddr: '10.251.148.38', dport: 7001, query: 'www.domain.com', dns_age_ms: 123.342 },
    ],
    [
      '-d: COMM with spaces taken fixed-width (12) before a QUERY with spaces; `No DNS Query` is NULL',
      PY_D,
      '1469    Web Content  4  10.201.219.236   54.67.101.145    80     No DNS Query',
      { pid: 1469, comm: 'Web Content', dport: 80, query: null, dns_age_ms: null },
    ],
    [
      '-d: multi-byte COMM is 12 bytes wide',
      PY_D,
      `1469    ${'prøve x'.padEnd(11)} 4  10.201.219.236   54.67.101.145    80     localhost`,
      { comm: 'prøve x', query: 'localhost' },
    ],
    [
      'libbpf -s: SPORT after DADDR',
      LIBBPF_TUS,
      '1.500    0     4123   curl             6  ::1              ::1              41234 8099 ',
      { uid: 0, pid: 4123, comm: 'curl', ip: 6, saddr: '::1', sport: 41234, daddr: '::1', dport: 8099 },
    ],
    [
      'count (Python / libbpf): LADDR RADDR RPORT CONNECTS',
      COUNT,
      '192.168.10.50             172.217.21.194            443                  70        ',
      { mode: 'count', uid: null, pid: null, comm: null, ip: 4, saddr: '192.168.10.50', sport: null, daddr: '172.217.21.194', dport: 443, count: 70 },
    ],
    [
      'count libbpf -s: LPORT, IPv6',
      COUNT_S,
      '::1                       ::1                       41234                8099                 2         ',
      { mode: 'count', ip: 6, saddr: '::1', sport: 41234, daddr: '::1', dport: 8099, count: 2 },
    ],
  ])('%s', (_name, header, line, expected) => {
    expect(record(header, line)?.values).toEqual(expect.objectContaining(expected))
  })

  test('TIME(s): seconds since the first event, 3 decimals', () => {
    const r = record('TIME(s)  PID    COMM         IP SADDR            DADDR            DPORT', '31.871   2482   local_agent  4  10.103.219.236   10.251.148.38    7001')!
    expect(r.time).toEqual({ kind: 'relative', seconds: 31.871, since: 'first_event', decimals: 3 })
    expect(r.timeText).toBe('31.871')
  })

  test('count mode as written at SIGINT: banner, empty line, header, rows (no time)', () => {
    const p = parseText(
      [BANNER, '', COUNT, '192.168.10.50             172.217.21.194            443                  70        '].join('\n') + '\n',
      [tcpconnect],
    )
    expect(p.lines.map((l) => l.kind)).toEqual(['message', 'message', 'header', 'record'])
    expect(p.records[0]?.time).toBeUndefined()
  })

  test('libbpf lost events (`Lost N events on CPU #M!`) are messages', () => {
    expect(parse(LIBBPF_026, 'Lost 5 events on CPU #2!').lines[1]).toMatchObject({ kind: 'message' })
  })

  test.each([
    ['a row cut after DADDR (no newline)', LIBBPF_026, '1479   telnet       4  127.0.0.1        127.0.0.1', false, /truncated last line/],
    ['an IP that is not 4 or 6', LIBBPF_026, '1479   telnet       5  127.0.0.1        127.0.0.1        23', true, /IP "5" is not 4 or 6/],
    ['a row without DPORT', LIBBPF_026, '1479   telnet       4  127.0.0.1        127.0.0.1        x', true, /expected PID, COMM, IP, SADDR, DADDR, DPORT/],
  ])('%s is bad with a reason', (_name, header, line, newline, reason) => {
    expect(parse(header, line, newline).lines[1]).toMatchObject({ kind: 'bad', detail: expect.stringMatching(reason) })
  })
})
