import { describe, expect, test } from 'vitest'
import tcpaccept from '../../src/formats/tcpaccept.js'
import tcpconnect from '../../src/formats/tcpconnect.js'
import tcpconnlat from '../../src/formats/tcpconnlat.js'
import tcplife from '../../src/formats/tcplife.js'
import tcpretrans from '../../src/formats/tcpretrans.js'
import tcpstates from '../../src/formats/tcpstates.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'

testFormatFixtures(tcpaccept)

const parse = (header: string, line: string, newline = true) =>
  parseText(`${header}\n${line}${newline ? '\n' : ''}`, [tcpaccept])
const record = (header: string, line: string) => parse(header, line).records[0]

// current code: `%-9s%-9s%-7s %-12s %-2s %-16s %-5s %-16s %-5s`
const PY = 'PID     COMM         IP RADDR            RPORT LADDR            LPORT'
const PY_TT = `TIME     TIME(s)  ${PY}`
const OLD = 'PID    COMM         IP RADDR            RPORT  LADDR            LPORT'

describe('tcpaccept detect', () => {
  test.each([
    [PY, { variant: 'python', flags: [], clock: false, relative: false }],
    [`TIME     ${PY}`, { variant: 'python', flags: ['-T'], clock: true, relative: false }],
    [`TIME(s)  ${PY}`, { variant: 'python', flags: ['-t'], clock: false, relative: true }],
    [PY_TT, { variant: 'python', flags: ['-T', '-t'], clock: true, relative: true }],
    [OLD, { variant: 'python-old', flags: [], clock: false, relative: false }],
    ['907    sshd         4  192.168.56.1     32324  192.168.56.102   22', undefined],
    ['PID COMM IP RADDR RPORT LADDR', undefined],
  ])('%s', (line, expected) => {
    expect(tcpaccept.detect(line)).toEqual(expected)
  })

  test('does not claim the other TCP tools\' headers', () => {
    for (const f of [tcpstates, tcplife, tcpretrans, tcpconnect, tcpconnlat])
      for (const s of f.samples) expect(tcpaccept.detect(s.header), s.header).toBeUndefined()
  })
})

describe('tcpaccept rows', () => {
  test.each([
    [
      'IPv6 addresses overflow the 16-wide columns; remote comes first',
      OLD,
      '5389   perl         6  1234:ab12:2040:5020:2299:0:5:0 52352 1234:ab12:2040:5020:2299:0:5:0 7001',
      { pid: 5389, comm: 'perl', ip: 6, raddr: '1234:ab12:2040:5020:2299:0:5:0', rport: 52352, laddr: '1234:ab12:2040:5020:2299:0:5:0', lport: 7001, elapsed_s: null },
    ],
    [
      'COMM with a space (cut to 12), trailing padding',
      PY,
      '4242    Web Content  4  10.0.0.2         51000 10.0.0.1         443  ',
      { pid: 4242, comm: 'Web Content', ip: 4, raddr: '10.0.0.2', rport: 51000, laddr: '10.0.0.1', lport: 443, elapsed_s: null },
    ],
  ])('%s', (_name, header, line, expected) => {
    expect(record(header, line)?.values).toEqual(expected)
  })

  test('-T -t: the clock is the record time, TIME(s) in elapsed_s', () => {
    const r = record(PY_TT, '21:05:12 1.984    907     sshd         4  127.0.0.1        51250 127.0.0.1        22   ')!
    expect(r.time).toEqual({ kind: 'clock', hour: 21, minute: 5, second: 12, utc: false })
    expect(r.timeText).toBe('21:05:12')
    expect(r.values).toMatchObject({ pid: 907, elapsed_s: 1.984, rport: 51250, lport: 22 })
  })

  test('-t: TIME(s) >= 10000 s runs into PID (no separator)', () => {
    const r = record(`TIME(s)  ${PY}`, '12345.678907     sshd         4  127.0.0.1        51250 127.0.0.1        22   ')!
    expect(r.time).toEqual({ kind: 'relative', seconds: 12345.678, since: 'first_event', decimals: 3 })
    expect(r.timeText).toBe('12345.678')
    expect(r.values).toMatchObject({ pid: 907, comm: 'sshd', elapsed_s: 12345.678 })
  })

  test.each([
    ['a row cut after RADDR (no newline)', PY, '907     sshd         4  127.0.0.1', false, /truncated last line/],
    ['an IP that is not 4 or 6', PY, '907     sshd         x  127.0.0.1        51250 127.0.0.1        22', true, /expected PID, COMM, IP, RADDR/],
    ['a bad IP version number', PY, '907     sshd         5  127.0.0.1        51250 127.0.0.1        22', true, /IP "5" is not 4 or 6/],
  ])('%s is bad with a reason', (_name, header, line, newline, reason) => {
    expect(parse(header, line, newline).lines[1]).toMatchObject({ kind: 'bad', detail: expect.stringMatching(reason) })
  })

  test('BCC lost samples are messages', () => {
    expect(parse(PY, 'Possibly lost 3 samples').lines[1]).toMatchObject({ kind: 'message' })
  })
})
