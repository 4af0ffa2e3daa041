import { describe, expect, test } from 'vitest'
import drsnoop from '../../src/formats/drsnoop.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'

testFormatFixtures(drsnoop, { noHeader: ['drsnoop.libbpf-e.kallsyms-failure.captured.log'] })

const parse = (header: string, line: string) => parseText(`${header}\n${line}\n`, [drsnoop])
const record = (header: string, line: string) => parse(header, line).records[0]
const LIBBPF = 'TIME     COMM             TID     LAT(ms) PAGES'
const LIBBPF_E = 'TIME     COMM             TID     LAT(ms) PAGES FREE(KB)'
const PY_TU = 'TIME(s)       UID   COMM           PID     LAT(ms) PAGES'

describe('drsnoop detect', () => {
  test.each([
    ['Tracing direct reclaim events... Hit Ctrl-C to end.', 'banner'],
    ['Tracing direct reclaim events for 2 secs.', 'banner'],
    [LIBBPF, { variant: 'libbpf', flags: [], relative: false, uid: false, tid: true, free: false }],
    [LIBBPF_E, { variant: 'libbpf', flags: ['-e'], relative: false, uid: false, tid: true, free: true }],
    ['COMM           PID     LAT(ms) PAGES', { variant: 'python', flags: [], relative: false, uid: false, tid: false, free: false }],
    [
      'TIME(s)       UID   COMM           TID     LAT(ms) PAGES  FREE(KB)',
      { variant: 'python', flags: ['-T', '-U', '-t', '-v'], relative: true, uid: true, tid: true, free: true },
    ],
    ['summond        17678      0.19   143', undefined],
    ['PAGES', undefined],
  ])('%s', (line, expected) => {
    expect(drsnoop.detect(line)).toEqual(expected)
  })

  test('a banner before the header is a message and selects drsnoop', () => {
    const p = parseText(`Tracing direct reclaim events for 2 secs.\n${LIBBPF}\n`, [drsnoop])
    expect(p.format).toBe('drsnoop')
    expect(p.lines.map((l) => l.kind)).toEqual(['message', 'header'])
  })
})

describe('drsnoop rows', () => {
  test.each([
    [
      'libbpf: COMM with a space, -e FREE(KB)',
      LIBBPF_E,
      '14:56:43 Web Content      268     106.637    39    86260',
      { comm: 'Web Content', pid: null, tid: 268, uid: null, lat_ms: 106.637, pages: 39, free_kb: 86260 },
    ],
    [
      'libbpf: COMM of multi-byte characters padded to 16 bytes',
      LIBBPF,
      `14:56:43 ${'prøve ø'.padEnd(16 - 2)} 268     106.637    39`,
      { comm: 'prøve ø', tid: 268, pages: 39 },
    ],
    [
      'Python: TIME(s) >= 1000 s touches UID',
      PY_TU,
      '1234.5678910001000  summond        17491      0.24    50',
      { comm: 'summond', pid: 17491, tid: null, uid: 1000, lat_ms: 0.24, pages: 50 },
    ],
    [
      'Python: a 6-digit UID touches COMM',
      'UID   COMM           PID     LAT(ms) PAGES',
      '100000summond        17491      0.24    50',
      { comm: 'summond', uid: 100000, pid: 17491 },
    ],
    [
      'Python: TIME(s) >= 1000 s touches COMM',
      'TIME(s)       COMM           PID     LAT(ms) PAGES',
      '1234.567891000summond        17491      0.24    50',
      { comm: 'summond', pid: 17491, uid: null },
    ],
    [
      'Python -v: a 10-digit FREE(KB) touches PAGES',
      'COMM           PID     LAT(ms) PAGES  FREE(KB)',
      'summond        17491      0.24   1511234567890',
      { pages: 151, free_kb: 1234567890 },
    ],
    [
      'Python: overflowing PID and LAT push the columns, COMM with a space',
      'COMM           PID     LAT(ms) PAGES',
      'kswapd0:0 x    1234567 12345.67 12345',
      { comm: 'kswapd0:0 x', pid: 1234567, lat_ms: 12345.67, pages: 12345 },
    ],
    [
      'Python -t: the id is a thread id',
      'COMM           TID     LAT(ms) PAGES',
      'summond        17491      0.24    50',
      { pid: null, tid: 17491 },
    ],
  ])('%s', (_name, header, line, expected) => {
    const p = parse(header, line)
    expect(p.lines[1]?.kind, JSON.stringify(p.lines[1])).toBe('record')
    expect(p.records[0]?.values).toMatchObject(expected)
  })

  test('times: libbpf wall clock, Python seconds since the first event', () => {
    expect(record(LIBBPF, '14:56:43 in:imklog        268     106.637    39')).toMatchObject({
      timeText: '14:56:43',
      time: { kind: 'clock', hour: 14, minute: 56, second: 43, utc: false },
    })
    expect(record(PY_TU, '1234.5678910001000  summond        17491      0.24    50')).toMatchObject({
      timeText: '1234.567891000',
      time: { kind: 'relative', seconds: 1234.567891, since: 'first_event', decimals: 9 },
    })
  })

  test.each([
    ['lost 3 events on CPU #1', 'message'],
    ['Error: packet too small', 'message'],
    ['HINT: run with a kernel that has vm_zone_stat', 'message'],
    ['14:56:43 in:imklog        268     oops    39', 'bad'],
  ])('%s is a %s', (line, kind) => {
    const p = parse(LIBBPF, line)
    expect(p.lines[1]?.kind).toBe(kind)
    if (kind === 'bad') expect(p.lines[1]?.detail).toMatch(/^not a drsnoop row: expected TIME/)
  })
})
