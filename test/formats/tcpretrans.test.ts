import { describe, expect, test } from 'vitest'
import tcpaccept from '../../src/formats/tcpaccept.js'
import tcpconnect from '../../src/formats/tcpconnect.js'
import tcpconnlat from '../../src/formats/tcpconnlat.js'
import tcplife from '../../src/formats/tcplife.js'
import tcpretrans from '../../src/formats/tcpretrans.js'
import tcpstates from '../../src/formats/tcpstates.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'

testFormatFixtures(tcpretrans)

const parse = (header: string, line: string, newline = true) =>
  parseText(`${header}\n${line}${newline ? '\n' : ''}`, [tcpretrans])
const record = (header: string, line: string) => parse(header, line).records[0]

const BANNER = 'Tracing retransmits ... Hit Ctrl-C to end'
const EVENT = 'TIME     PID     IP LADDR:LPORT          T> RADDR:RPORT          STATE'
const EVENT_S = 'TIME     PID     IP LADDR:LPORT          T> RADDR:RPORT          STATE        SEQ       '
const COUNT = 'LADDR:LPORT               RADDR:RPORT               RETRANSMITS'

describe('tcpretrans detect', () => {
  test.each([
    [BANNER, 'banner'],
    [EVENT, { variant: 'python', flags: [], mode: 'event', seq: false }],
    ['TIME     PID    IP LADDR:LPORT          T> RADDR:RPORT          STATE', { variant: 'python', flags: [], mode: 'event', seq: false }],
    [EVENT_S, { variant: 'python', flags: ['-s'], mode: 'event', seq: true }],
    [COUNT, { variant: 'python', flags: ['-c'], mode: 'count', seq: false }],
    ['01:55:05 0      4  10.153.223.157:22    R> 69.53.245.40:34619   ESTABLISHED', undefined],
    ['LADDR:LPORT RADDR:RPORT', undefined],
  ])('%s', (line, expected) => {
    expect(tcpretrans.detect(line)).toEqual(expected)
  })

  test('does not claim the other TCP tools\' headers or banners', () => {
    for (const f of [tcpstates, tcplife, tcpconnect, tcpaccept, tcpconnlat])
      for (const s of f.samples) expect(tcpretrans.detect(s.header), s.header).toBeUndefined()
    expect(tcpretrans.detect('Tracing connect ... Hit Ctrl-C to end')).toBeUndefined()
  })
})

describe('tcpretrans rows', () => {
  test.each([
    [
      'R> retransmit, PID 0 (softirq)',
      EVENT,
      '01:55:05 0       4  10.153.223.157:22    R> 69.53.245.40:34619   ESTABLISHED',
      { mode: 'event', pid: 0, ip: 4, laddr: '10.153.223.157', lport: 22, type: 'R', raddr: '69.53.245.40', rport: 34619, state: 'ESTABLISHED', seq: null, count: null },
    ],
    [
      '-l: L> tail loss probe',
      EVENT,
      '01:55:53 1938    4  10.153.223.157:22    L> 69.53.245.40:46444   ESTABLISHED',
      { pid: 1938, type: 'L', rport: 46444 },
    ],
    [
      'IPv6 endpoints overflow and split on the last colon',
      EVENT,
      '01:55:53 0       6  2001:db8::1:22       R> 2001:db8::ff:2:51234 FIN_WAIT1',
      { ip: 6, laddr: '2001:db8::1', lport: 22, raddr: '2001:db8::ff:2', rport: 51234, state: 'FIN_WAIT1' },
    ],
    [
      'an unknown state prints as its number and is kept',
      EVENT,
      '01:55:53 0       4  10.0.0.1:22          R> 10.0.0.2:5000        13',
      { state: '13' },
    ],
    [
      '-s: SEQ of a retransmit',
      EVENT_S,
      '18:03:46 0       4  192.168.10.50:41976  R> 172.217.21.194:443   SYN_SENT     2879306108',
      { type: 'R', state: 'SYN_SENT', seq: 2879306108 },
    ],
    [
      '-s -l: L> rows print SEQ 0 → NULL',
      EVENT_S,
      '18:03:46 0       4  192.168.10.50:41976  L> 172.217.21.194:443   ESTABLISHED  0',
      { type: 'L', seq: null },
    ],
    [
      'count: [ADDR]#PORT endpoints (current code)',
      COUNT,
      '[10.0.0.1]#22        <-> [10.0.0.2]#51234              3',
      { mode: 'count', pid: null, ip: 4, laddr: '10.0.0.1', lport: 22, type: null, raddr: '10.0.0.2', rport: 51234, state: null, seq: null, count: 3 },
    ],
    [
      'count: IPv6 [ADDR]#PORT',
      COUNT,
      '[fe80::1]#22         <-> [fe80::2]#51234              12',
      { ip: 6, laddr: 'fe80::1', lport: 22, raddr: 'fe80::2', rport: 51234, count: 12 },
    ],
    [
      'count: ADDR:PORT endpoints (bcc example file)',
      COUNT,
      '192.168.10.50:60366  <-> 172.217.21.194:443         700',
      { laddr: '192.168.10.50', lport: 60366, raddr: '172.217.21.194', rport: 443, count: 700 },
    ],
  ])('%s', (_name, header, line, expected) => {
    expect(record(header, line)?.values).toEqual(expect.objectContaining(expected))
  })

  test('TIME is a local HH:MM:SS clock; count rows have no time', () => {
    const r = record(EVENT, '01:55:05 0       4  10.153.223.157:22    R> 69.53.245.40:34619   ESTABLISHED')!
    expect(r.time).toEqual({ kind: 'clock', hour: 1, minute: 55, second: 5, utc: false })
    expect(r.timeText).toBe('01:55:05')
    const c = record(COUNT, '[10.0.0.1]#22        <-> [10.0.0.2]#51234              3')!
    expect(c.time).toBeUndefined()
  })

  test('count mode as written at SIGINT: banner, empty line, header, rows', () => {
    const p = parseText(
      [BANNER, '', COUNT, '[10.0.0.1]#22        <-> [10.0.0.2]#51234              3', '[::1]#8080           <-> [::1]#41000                 9'].join('\n') + '\n',
      [tcpretrans],
    )
    expect(p.lines.map((l) => l.kind)).toEqual(['message', 'message', 'header', 'record', 'record'])
    expect(p.records.map((r) => r.values.count)).toEqual([3, 9])
  })

  test.each([
    ['a truncated STATE (no newline)', EVENT, '01:55:05 0       4  10.153.223.157:22    R> 69.53.245.40:34619   ESTABLI', false, /truncated last line.*STATE "ESTABLI"/],
    ['an unknown state name', EVENT, '01:55:05 0       4  10.153.223.157:22    R> 69.53.245.40:34619   ESTABLISHEDX', true, /unknown TCP state "ESTABLISHEDX"/],
    ['a missing T> marker', EVENT, '01:55:05 0       4  10.153.223.157:22    69.53.245.40:34619   ESTABLISHED', true, /expected TIME \(HH:MM:SS\), PID, IP/],
    ['a SEQ layout row without SEQ', EVENT_S, '01:55:05 0       4  10.153.223.157:22    R> 69.53.245.40:34619   ESTABLISHED', true, /, SEQ$/],
    ['a count row without the count', COUNT, '[10.0.0.1]#22        <-> [10.0.0.2]#51234', true, /not a tcpretrans count row/],
  ])('%s is bad with a reason', (_name, header, line, newline, reason) => {
    expect(parse(header, line, newline).lines[1]).toMatchObject({ kind: 'bad', detail: expect.stringMatching(reason) })
  })
})
