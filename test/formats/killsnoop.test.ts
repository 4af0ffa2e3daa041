import { describe, expect, test } from 'vitest'
import killsnoop from '../../src/formats/killsnoop.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'

testFormatFixtures(killsnoop)

const parse = (header: string, line: string) => parseText(`${header}\n${line}\n`, [killsnoop])
const LIBBPF = 'TIME     PID     COMM             SIG       TPID    RESULT'
const LIBBPF_34 = 'TIME     PID     COMM             SIG          TPID    TCOMM            RESULT'
const PY_8 = 'TIME      PID      COMM             SIG  TPID     RESULT'

describe('killsnoop detect', () => {
  test.each([
    [LIBBPF, { variant: 'libbpf', flags: [], tcomm: false }],
    [LIBBPF_34, { variant: 'libbpf-0.34', flags: [], tcomm: true }],
    ['TIME      PID    COMM             SIG  TPID   RESULT', { variant: 'python', flags: [], tcomm: false }],
    [PY_8, { variant: 'python', flags: [], tcomm: false }],
    ['03:38:29 19482   TIME PID COMM SIG TPID RESULT', undefined],
  ])('%s', (line, expected) => {
    expect(killsnoop.detect(line)).toEqual(expected)
  })
})

describe('killsnoop rows', () => {
  test.each([
    ['libbpf -n: N/A is signal 0', LIBBPF, '03:38:35 19572   tdb-killer       N/A       19613   0     ', { sig: 0, sig_name: null, tpid: 19613, result: 0 }],
    ['libbpf -n: a name gives the number', LIBBPF, '03:38:35 19572   tdb-killer       SIGKILL   3999999 -3    ', { sig: 9, sig_name: 'SIGKILL', tpid: 3999999, result: -3 }],
    ['libbpf: a number gives the name', LIBBPF, '03:38:29 19482   tdb-killer       15        19523   0     ', { sig: 15, sig_name: 'SIGTERM' }],
    ['libbpf: a real-time signal has no name', LIBBPF, '03:38:29 19482   tdb-killer       36        19525   0     ', { sig: 36, sig_name: null }],
    [
      'libbpf >= 0.34: TCOMM, SIGNAL-36',
      LIBBPF_34,
      '03:38:46 19752   tdb-killer       SIGNAL-36    19795   sleep            0     ',
      { pid: 19752, comm: 'tdb-killer', sig: 36, sig_name: null, tpid: 19795, tcomm: 'sleep', result: 0 },
    ],
    [
      'libbpf >= 0.34: empty TCOMM, process-group target, COMM with a space',
      LIBBPF_34,
      '03:38:46 19752   tdb killer       0            -19700                   -1    ',
      { comm: 'tdb killer', sig: 0, sig_name: null, tpid: -19700, tcomm: null, result: -1 },
    ],
    [
      'Python with pid_max 4194304: 8-wide PID/TPID, negative TPID',
      PY_8,
      '12:10:51  4000000  bash             9    -4000001 -1',
      { pid: 4000000, comm: 'bash', sig: 9, sig_name: 'SIGKILL', tpid: -4000001, tcomm: null, result: -1 },
    ],
    [
      'libbpf: a COMM of multi-byte characters padded to 16 bytes',
      LIBBPF,
      `03:38:29 19482   ${'tüdb-kïller'.padEnd(14)} 9         19524   0     `,
      { comm: 'tüdb-kïller', sig: 9, tpid: 19524 },
    ],
  ])('%s', (_name, header, line, expected) => {
    const p = parse(header, line)
    expect(p.lines[1]?.kind, JSON.stringify(p.lines[1])).toBe('record')
    expect(p.records[0]?.values).toMatchObject(expected)
  })

  test('TIME is a local wall clock', () => {
    expect(parse(LIBBPF, '03:38:29 19482   tdb-killer       0         19523   0     ').records[0]).toMatchObject({
      timeText: '03:38:29',
      time: { kind: 'clock', hour: 3, minute: 38, second: 29, utc: false },
    })
  })

  test.each([
    ['WARNING: Current kernel not support bpf_task_from_pid(), ignore TCOMM field', 'message', undefined],
    ['03:38:29 19482   tdb-killer       KILL      19523   0     ', 'bad', 'unknown SIG "KILL": expected a number, a SIG name or N/A'],
    ['03:38:29 19482   tdb-killer       9', 'bad', 'not a killsnoop row: expected TIME (HH:MM:SS), PID, COMM (16 wide), SIG, TPID and RESULT'],
  ])('%s is a %s', (line, kind, detail) => {
    const p = parse(LIBBPF, line)
    expect(p.lines[1]?.kind).toBe(kind)
    if (detail) expect(p.lines[1]?.detail).toBe(detail)
  })
})
