import { describe, expect, test } from 'vitest'
import tcpaccept from '../../src/formats/tcpaccept.js'
import tcpconnect from '../../src/formats/tcpconnect.js'
import tcpconnlat from '../../src/formats/tcpconnlat.js'
import tcplife from '../../src/formats/tcplife.js'
import tcpretrans from '../../src/formats/tcpretrans.js'
import tcpstates from '../../src/formats/tcpstates.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'

testFormatFixtures(tcpconnlat, {
  noHeader: ['tcpconnlat.libbpf-default.attach-failure.captured.log', 'tcpconnlat.libbpf-t-L.attach-failure.captured.log'],
})

const parse = (header: string, line: string, newline = true) =>
  parseText(`${header}\n${line}${newline ? '\n' : ''}`, [tcpconnlat])
const record = (header: string, line: string) => parse(header, line).records[0]

const LIBBPF = 'PID    COMM         IP SADDR            DADDR            DPORT LAT(ms)'
const LIBBPF_TL = 'TIME(s)   PID    COMM         IP SADDR            LPORT  DADDR            DPORT LAT(ms)'
const PY = 'PID     COMM         IP SADDR            DADDR            DPORT LAT(ms)'
const PY_T = `TIME(s)  ${PY}`

describe('tcpconnlat detect', () => {
  test.each([
    [LIBBPF, { variant: 'libbpf-or-python-0.24', flags: [], time: false, lport: false }],
    [LIBBPF_TL, { variant: 'libbpf-or-python-0.24', flags: ['-t', '-L'], time: true, lport: true }],
    [PY, { variant: 'python', flags: [], time: false, lport: false }],
    [PY_T, { variant: 'python', flags: ['-t'], time: true, lport: false }],
    ['PID    COMM         IP SADDR            DADDR            DPORT', undefined], // tcpconnect
    ['1201   wget         4  10.153.223.157   23.23.100.231    80    1.65', undefined],
  ])('%s', (line, expected) => {
    expect(tcpconnlat.detect(line)).toEqual(expected)
  })

  test('does not claim the other TCP tools\' headers', () => {
    for (const f of [tcpstates, tcplife, tcpretrans, tcpconnect, tcpaccept])
      for (const s of f.samples) expect(tcpconnlat.detect(s.header), s.header).toBeUndefined()
  })
})

describe('tcpconnlat rows', () => {
  test.each([
    [
      'IPv6 addresses overflow the 16-wide columns',
      LIBBPF,
      '20337  python2.7    6  1234:ab12:2040:5020:2299:0:5:0 1234:ab12:20:9f1d:2299:dde9:0:f5 7001  62.20',
      { pid: 20337, comm: 'python2.7', ip: 6, saddr: '1234:ab12:2040:5020:2299:0:5:0', sport: null, daddr: '1234:ab12:20:9f1d:2299:dde9:0:f5', dport: 7001, lat_ms: 62.2 },
    ],
    [
      'COMM with a space; a refused connect still has a latency',
      PY,
      '4242    Web Content  4  127.0.0.1        127.0.0.1        8097  0.05',
      { pid: 4242, comm: 'Web Content', ip: 4, saddr: '127.0.0.1', sport: null, daddr: '127.0.0.1', dport: 8097, lat_ms: 0.05 },
    ],
    [
      'libbpf -t -L: separator after TIME(s), LPORT after SADDR',
      LIBBPF_TL,
      '0.012     2852   curl         4  127.0.0.1        41234  127.0.0.1        8099  1234.56',
      { pid: 2852, comm: 'curl', sport: 41234, daddr: '127.0.0.1', dport: 8099, lat_ms: 1234.56 },
    ],
  ])('%s', (_name, header, line, expected) => {
    expect(record(header, line)?.values).toEqual(expect.objectContaining(expected))
  })

  test('Python -t: TIME(s) >= 10000 s runs into PID (no separator)', () => {
    const r = record(PY_T, '10000.1232852    curl         4  10.153.223.157   23.101.17.61     80    250.86')!
    expect(r.time).toEqual({ kind: 'relative', seconds: 10000.123, since: 'first_event', decimals: 3 })
    expect(r.timeText).toBe('10000.123')
    expect(r.values).toMatchObject({ pid: 2852, comm: 'curl', dport: 80, lat_ms: 250.86 })
  })

  test.each([
    ['a truncated LAT (no newline)', LIBBPF, '2852   curl         4  10.153.223.157   23.101.17.61     80    250.8', false, /truncated last line/],
    ['a row without LAT(ms)', LIBBPF, '2852   curl         4  10.153.223.157   23.101.17.61     80', true, /expected PID, COMM, IP, SADDR, DADDR, DPORT, LAT\(ms\)/],
  ])('%s is bad with a reason', (_name, header, line, newline, reason) => {
    expect(parse(header, line, newline).lines[1]).toMatchObject({ kind: 'bad', detail: expect.stringMatching(reason) })
  })
})
