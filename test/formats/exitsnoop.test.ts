import { describe, expect, test } from 'vitest'
import exitsnoop from '../../src/formats/exitsnoop.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'

testFormatFixtures(exitsnoop)

const parse = (header: string, line: string) => parseText(`${header}\n${line}\n`, [exitsnoop]).records[0]
const LIBBPF_T = 'TIME(s)  PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE'

describe('exitsnoop rows', () => {
  test.each([
    ['0', { exit_code: 0, signal: null, core_dumped: 0 }],
    ['code 3', { exit_code: 3, signal: null }],
    ['signal 9 (Killed)', { exit_code: null, signal: 9, signal_name: 'Killed' }],
    ['signal 11 (Segmentation fault), core dumped', { signal: 11, signal_name: 'Segmentation fault', core_dumped: 1 }],
  ])('libbpf EXIT_CODE %s', (code, expected) => {
    const r = parse(LIBBPF_T, `05:21:02 sleep            2127    2092    2127    1.00    ${code}`)!
    expect(r.values).toMatchObject({ comm: 'sleep', pid: 2127, ppid: 2092, tid: 2127, age_s: 1, ...expected })
    expect(r.time).toEqual({ kind: 'clock', hour: 5, minute: 21, second: 2, utc: false })
  })

  test('python --utc prints milliseconds in UTC; short signal names; trailing space', () => {
    const r = parse(
      'TIME-UTC     PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE ',
      '12:34:56.789 sleep            3001    3000    3001    0.50    signal 9 (KILL) ',
    )!
    expect(r.values).toMatchObject({ pid: 3001, signal: 9, signal_name: 'KILL' })
    expect(r.time).toEqual({ kind: 'clock', hour: 12, minute: 34, second: 56, millis: 789, utc: true })
  })

  test('a long AGE pushes the columns', () => {
    const r = parse(LIBBPF_T, '05:21:02 sshd             1442    1       1442    123456.78 0')!
    expect(r.values).toMatchObject({ pid: 1442, age_s: 123456.78, exit_code: 0 })
  })

  test('an unknown EXIT_CODE is bad, with the reason', () => {
    const p = parseText(`${LIBBPF_T}\n05:21:02 sleep            2127    2092    2127    1.00    exploded\n`, [exitsnoop])
    expect(p.lines[1]).toMatchObject({ kind: 'bad', detail: expect.stringMatching(/unknown EXIT_CODE "exploded"/) })
  })
})
