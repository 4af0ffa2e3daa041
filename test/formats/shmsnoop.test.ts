import { describe, expect, test } from 'vitest'
import shmsnoop from '../../src/formats/shmsnoop.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'

testFormatFixtures(shmsnoop)

const parse = (header: string, line: string) => parseText(`${header}\n${line}\n`, [shmsnoop])
const DEFAULT = 'PID    COMM                SYS              RET ARGs'
const TIMED = 'TIME(s)       PID    COMM                SYS              RET ARGs'

describe('shmsnoop detect', () => {
  test.each([
    [DEFAULT, { variant: 'python', flags: [], relative: false, tid: false }],
    [TIMED, { variant: 'python', flags: ['-T'], relative: true, tid: false }],
    ['TID    COMM                SYS              RET ARGs', { variant: 'python', flags: ['-t'], relative: false, tid: true }],
    ['19813  server            SHMDT                0 shmaddr: ARGs', undefined],
  ])('%s', (line, expected) => {
    expect(shmsnoop.detect(line)).toEqual(expected)
  })
})

describe('shmsnoop rows', () => {
  test.each([
    [
      'RET is hex: 10000 is shmid 65536',
      DEFAULT,
      '19813  server           SHMGET            10000 key: 0x78020001, size: 20, shmflg: 0x3b6 (IPC_CREAT|0666)',
      { pid: 19813, comm: 'server', sys: 'SHMGET', ret: '10000', ret_value: 65536, shmid: 65536, args: 'key: 0x78020001, size: 20, shmflg: 0x3b6 (IPC_CREAT|0666)' },
    ],
    [
      'a failed shmget: two\'s complement RET, no shmid; COMM with a space',
      DEFAULT,
      '19813  my server        SHMGET ffffffffffffffff key: 0x78020001, size: 20, shmflg: 0x3b6 (IPC_CREAT|0666)',
      { comm: 'my server', ret: 'ffffffffffffffff', ret_value: -1, shmid: null },
    ],
    [
      'a failed shmat (-EINVAL) keeps the shmid argument',
      DEFAULT,
      '19813  server            SHMAT ffffffffffffffea shmid: 0x10000, shmaddr: 0x0, shmflg: 0x0',
      { sys: 'SHMAT', ret_value: -22, shmid: 65536 },
    ],
    [
      'shmat returns the attach address',
      DEFAULT,
      '19813  server            SHMAT     7f1cf8b1f000 shmid: 0x10000, shmaddr: 0x0, shmflg: 0x0',
      { ret_value: 0x7f1cf8b1f000, shmid: 65536 },
    ],
    [
      'SYS N/A is NULL, empty ARGs',
      DEFAULT,
      '19813  server              N/A                0 ',
      { sys: null, ret_value: 0, shmid: null, args: '' },
    ],
    [
      'TIME(s) >= 1000 s touches PID',
      TIMED,
      '1000.12345600019825  server            SHMDT                0 shmaddr: 0x7f74362e4000',
      { pid: 19825, sys: 'SHMDT', args: 'shmaddr: 0x7f74362e4000' },
    ],
    [
      '-t: a thread id',
      'TID    COMM                SYS              RET ARGs',
      '19855  server            SHMDT                0 shmaddr: 0x7f4329ff8000',
      { pid: null, tid: 19855 },
    ],
  ])('%s', (_name, header, line, expected) => {
    const p = parse(header, line)
    expect(p.lines[1]?.kind, JSON.stringify(p.lines[1])).toBe('record')
    expect(p.records[0]?.values).toMatchObject(expected)
  })

  test('TIME(s) is relative to the first event, 9 decimals', () => {
    const r = parse(TIMED, '1000.12345600019825  server            SHMDT                0 shmaddr: 0x7f74362e4000').records[0]
    expect(r).toMatchObject({ timeText: '1000.123456000', time: { kind: 'relative', seconds: 1000.123456, since: 'first_event', decimals: 9 } })
  })

  test('an unknown SYS is bad, with the reason', () => {
    const p = parse(DEFAULT, '19813  server           SHMFOO            10000 key: 0x1')
    expect(p.lines[1]).toMatchObject({ kind: 'bad', detail: expect.stringMatching(/^not a shmsnoop row: expected PID, COMM/) })
  })
})
