import { describe, expect, test } from 'vitest'
import biosnoop from '../../src/formats/biosnoop.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'

testFormatFixtures(biosnoop, { noHeader: ['biosnoop.libbpf-default.load-failure.captured.log'] })

const parse = (header: string, line: string) => parseText(`${header}\n${line}\n`, [biosnoop])
const LIBBPF = 'TIME(s)     COMM           PID     DISK    T    SECTOR     BYTES   LAT(ms)'
const LIBBPF_Q = 'TIME(s)     COMM           PID     DISK    T    SECTOR     BYTES   QUE(ms) LAT(ms)'
const LIBBPF_T = 'TIMESTAMP    COMM           PID     DISK    T    SECTOR     BYTES   LAT(ms)'
const PY = 'TIME(s)     COMM           PID     DISK      T SECTOR     BYTES  LAT(ms)'
const PY_Q = 'TIME(s)     COMM           PID     DISK      T SECTOR     BYTES  QUE(ms) LAT(ms)'
const PY_PQ = 'TIME(s)     COMM           PID     DISK      T SECTOR     BYTES  P QUE(ms) LAT(ms)'
const PY_P = 'TIME(s)     COMM           PID     DISK      T SECTOR     BYTES  P LAT(ms)'

describe('biosnoop detect', () => {
  test.each([
    [LIBBPF, { variant: 'libbpf', flags: [], timestamp: false, queue: false, pattern: false }],
    [LIBBPF_Q, { variant: 'libbpf', flags: ['-Q'], timestamp: false, queue: true, pattern: false }],
    [LIBBPF_T, { variant: 'libbpf', flags: ['-t'], timestamp: true, queue: false, pattern: false }],
    [PY, { variant: 'python', flags: [], timestamp: false, queue: false, pattern: false }],
    [PY_PQ, { variant: 'python', flags: ['-Q', '-P'], timestamp: false, queue: true, pattern: true }],
    ['TIME(s)     COMM           PID    DISK    T SECTOR     BYTES   LAT(ms)', { variant: 'python-0.24', flags: [], timestamp: false, queue: false, pattern: false }],
    ['0.000004    supervise      1950   xvda1   W 13092560   4096       0.74', undefined],
  ])('%s', (line, expected) => {
    expect(biosnoop.detect(line)).toEqual(expected)
  })
})

describe('biosnoop rows', () => {
  test.each([
    [
      'libbpf -Q placeholders: COMM ?, PID 0, DISK Unknown, QUE -1.000; rwbs FWS',
      LIBBPF_Q,
      '0.000000    ?              0       Unknown FWS  0          0        -1.000   0.123',
      { comm: null, pid: null, disk: null, rwbs: 'FWS', sector: 0, bytes: 0, pattern: null, que_ms: null, lat_ms: 0.123 },
    ],
    [
      'libbpf: long DISK, PID, SECTOR and LAT push the columns',
      LIBBPF_Q,
      '12.500000   kworker/u72:1x 1234567 nvme10n1p12 RA   123456789012 1048576   0.004 12345.678',
      { comm: 'kworker/u72:1x', pid: 1234567, disk: 'nvme10n1p12', rwbs: 'RA', sector: 123456789012, bytes: 1048576, que_ms: 0.004, lat_ms: 12345.678 },
    ],
    [
      'Python: BYTES has no separator, a LAT >= 1000 ms touches it; <unknown> DISK',
      PY,
      '1.500000    dd             2001    <unknown> R 2048       10485761234.56',
      { comm: 'dd', pid: 2001, disk: null, rwbs: 'R', sector: 2048, bytes: 1048576, lat_ms: 1234.56, que_ms: null },
    ],
    [
      'Python -P -Q: BYTES touches P',
      PY_PQ,
      '1.500000    dd             2001    sda       W 2048       1048576S    0.01 1234.56',
      { bytes: 1048576, pattern: 'S', que_ms: 0.01, lat_ms: 1234.56 },
    ],
    [
      'Python -P: unknown pattern ?, unknown COMM and PID',
      PY_P,
      '1.500000    ?              0       sda       W 2048       4096   ?    0.50',
      { comm: null, pid: null, bytes: 4096, pattern: null, lat_ms: 0.5 },
    ],
    [
      'Python -Q: a QUE >= 1000 ms',
      PY_Q,
      '1.500000    dd             2001    sda       W 2048       4096   1234.50    0.50',
      { bytes: 4096, que_ms: 1234.5, lat_ms: 0.5 },
    ],
    [
      'Python -Q: a QUE >= 1000 ms touches a 7-digit BYTES',
      PY_Q,
      '1.500000    dd             2001    sda       W 2048       10485761234.50    0.50',
      { bytes: 1048576, que_ms: 1234.5, lat_ms: 0.5 },
    ],
    [
      'Python <= 0.24: PID 6, DISK 7, a space after BYTES',
      'TIME(s)     COMM           PID    DISK    T SECTOR     BYTES   LAT(ms)',
      '2.003931    xfsaild/md0    456    xvdb    W 62901513   512        0.25',
      { comm: 'xfsaild/md0', pid: 456, disk: 'xvdb', sector: 62901513, bytes: 512, lat_ms: 0.25 },
    ],
  ])('%s', (_name, header, line, expected) => {
    const p = parse(header, line)
    expect(p.lines[1]?.kind, JSON.stringify(p.lines[1])).toBe('record')
    expect(p.records[0]?.values).toMatchObject(expected)
  })

  test('times: relative 6 decimals, libbpf -t wall clock with milliseconds', () => {
    expect(parse(LIBBPF, '5.332998    xfsaild/nvme1n 1061    nvme1n1 WS   545728     16384     0.610').records[0]).toMatchObject({
      timeText: '5.332998',
      time: { kind: 'relative', seconds: 5.332998, since: 'first_event', decimals: 6 },
      values: { rwbs: 'WS', lat_ms: 0.61 },
    })
    expect(parse(LIBBPF_T, '12:34:56.007 dd             2001    vda     W    2048       4096      1.500').records[0]).toMatchObject({
      timeText: '12:34:56.007',
      time: { kind: 'clock', hour: 12, minute: 34, second: 56, millis: 7, utc: false },
      values: { comm: 'dd', pid: 2001, disk: 'vda', rwbs: 'W', sector: 2048, bytes: 4096, lat_ms: 1.5 },
    })
  })

  test('a load failure (no header) is all messages', () => {
    const p = parseText("libbpf: failed to load object 'biosnoop_bpf'\nfailed to load BPF object: -1\n", [biosnoop])
    expect(p.lines.map((l) => l.kind)).toEqual(['message', 'message'])
  })

  test('a row without LAT is bad, with the reason', () => {
    expect(parse(PY, '1.500000    dd             2001    sda       W 2048       4096').lines[1]).toMatchObject({
      kind: 'bad',
      detail: 'not a biosnoop row: expected TIME(s), COMM (14 wide), PID, DISK, T (R/W), SECTOR, BYTES, LAT(ms)',
    })
  })
})
