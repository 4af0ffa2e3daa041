import { describe, expect, test } from 'vitest'
import opensnoop from '../../src/formats/opensnoop.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'

testFormatFixtures(opensnoop)

const parse = (header: string, line: string) => parseText(`${header}\n${line}\n`, [opensnoop])
const LIBBPF = 'PID    COMM              FD ERR PATH'
const LIBBPF_TUE = 'TIME     UID     PID    COMM              FD ERR FLAGS    PATH'
const LIBBPF_TUE_34 = 'TIME     UID     PID    COMM              FD ERR FLAGS    MODE  PATH'
const PY = 'PID    COMM               FD ERR PATH'
const PY_TU = 'TIME(s)       UID   PID    COMM               FD ERR PATH'

const base = { variant: 'libbpf', flags: [], clock: false, relative: false, uid: false, tid: false, openFlags: false, mode: false }

describe('opensnoop detect', () => {
  test.each([
    [LIBBPF, base],
    [LIBBPF_TUE, { ...base, flags: ['-T', '-U', '-e'], clock: true, uid: true, openFlags: true }],
    [LIBBPF_TUE_34, { ...base, flags: ['-T', '-U', '-e'], clock: true, uid: true, openFlags: true, mode: true }],
    [PY, { ...base, variant: 'python' }],
    [PY_TU, { ...base, variant: 'python', flags: ['-T', '-U'], relative: true, uid: true }],
    ['TID    COMM               FD ERR FLAGS    MODE PATH', { ...base, variant: 'python', flags: ['-t', '-e'], tid: true, openFlags: true, mode: true }],
    ['PID    COMM      FD ERR PATH', { ...base, variant: 'python-old' }],
    ['19019  tdb-opener         3   0 PID COMM FD ERR PATH', undefined],
  ])('%s', (line, expected) => {
    expect(opensnoop.detect(line)).toEqual(expected)
  })
})

describe('opensnoop rows', () => {
  test.each([
    [
      'Python -T -U: TIME(s) >= 1000 s touches a 6-digit UID that touches PID',
      PY_TU,
      '1234.5678910001000001234   cat                 3   0 /etc/passwd',
      { uid: 100000, pid: 1234, tid: null, comm: 'cat', fd: 3, err: 0, flags: null, mode: null, path: '/etc/passwd' },
    ],
    [
      'Python -U: a 7-digit UID touches PID',
      'UID   PID    COMM               FD ERR PATH',
      '10000001234   cat                 3   0 /etc/passwd',
      { uid: 1000000, pid: 1234 },
    ],
    [
      'libbpf >= 0.34 -e: MODE, FD >= 1000, COMM with a space, PATH with a leading space',
      LIBBPF_TUE_34,
      '03:38:07 65534   19293  tdb opener       1234   0 00000101 0644  leading space',
      { uid: 65534, pid: 19293, comm: 'tdb opener', fd: 1234, err: 0, flags: '00000101', mode: '0644', path: ' leading space' },
    ],
    [
      'libbpf >= 0.34 -e: failure, MODE n/a, empty PATH',
      LIBBPF_TUE_34,
      '03:38:07 0       19293  tdb-opener        -1   2 02000000 n/a  ',
      { uid: 0, fd: null, err: 2, flags: '02000000', mode: null, path: null },
    ],
    ['Python: empty PATH after the trailing space', PY, '1234   cat                -1   2 ', { pid: 1234, fd: null, err: 2, path: null }],
    ['libbpf: PATH with spaces', LIBBPF, '19019  tdb-opener         3   0 dir with space/file name.txt', { path: 'dir with space/file name.txt' }],
    ['Python -t: a thread id', 'TID    COMM               FD ERR PATH', '1234   cat                 3   0 x', { pid: null, tid: 1234 }],
    ['old Python: narrow COMM', 'PID    COMM      FD ERR PATH', '18373  multilog  -1  13 lock', { pid: 18373, comm: 'multilog', fd: null, err: 13, path: 'lock' }],
  ])('%s', (_name, header, line, expected) => {
    const p = parse(header, line)
    expect(p.lines[1]?.kind, JSON.stringify(p.lines[1])).toBe('record')
    expect(p.records[0]?.values).toMatchObject(expected)
  })

  test('times: libbpf -T wall clock, Python -T seconds since the first event', () => {
    expect(parse(LIBBPF_TUE, '03:38:07 0       19293  tdb-opener         3   0 02000000 /etc/hostname').records[0]).toMatchObject({
      timeText: '03:38:07',
      time: { kind: 'clock', hour: 3, minute: 38, second: 7, utc: false },
      values: { uid: 0, flags: '02000000', mode: null, path: '/etc/hostname' },
    })
    expect(parse(PY_TU, '1234.5678910001000001234   cat                 3   0 /etc/passwd').records[0]).toMatchObject({
      timeText: '1234.567891000',
      time: { kind: 'relative', seconds: 1234.567891, since: 'first_event', decimals: 9 },
    })
  })

  test.each([
    ['Lost 12 events on CPU #3!', 'message'],
    ['19019  tdb-opener         x   0 /etc/hostname', 'bad'],
  ])('%s is a %s', (line, kind) => {
    const p = parse(LIBBPF, line)
    expect(p.lines[1]?.kind).toBe(kind)
    if (kind === 'bad') expect(p.lines[1]?.detail).toBe('not an opensnoop row: expected PID, COMM (16 wide), FD, ERR, PATH')
  })
})
