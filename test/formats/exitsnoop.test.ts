import { describe, expect, test } from 'vitest'
import exitsnoop, { type ExitsnoopLayout } from '../../src/formats/exitsnoop.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'

testFormatFixtures(exitsnoop)

const LIBBPF = 'PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE'
const LIBBPF_T = 'TIME(s)  PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE'
const PY = 'PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE '
const PY_UTC_LABEL = 'TIME-UTC     LABEL PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE '
const PY_CET = 'TIME-CET     PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE '
const PY_OLD = 'PCOMM            PID    PPID   TID    AGE(s)  EXIT_CODE'

const record = (header: string, line: string) => {
  const p = parseText(`${header}\n${line}\n`, [exitsnoop])
  expect(p.lines.map((l) => l.kind)).toEqual(['header', 'record'])
  return p.records[0]!
}

const EXIT_0 = { exit_code: 0, signal: null, signal_name: null, core_dumped: 0 }

describe('exitsnoop detect', () => {
  test.each([
    [LIBBPF, { variant: 'libbpf', flags: [], time: 'none', utc: false, zone: null, label: false }],
    [LIBBPF_T, { variant: 'libbpf', flags: ['-t'], time: 'clock', utc: false, zone: null, label: false }],
    [PY, { variant: 'python', flags: [], time: 'none', utc: false, zone: null, label: false }],
    [PY_UTC_LABEL, { variant: 'python', flags: ['--utc', '--label'], time: 'millis', utc: true, zone: 'UTC', label: true }],
    [PY_CET, { variant: 'python', flags: ['-t'], time: 'millis', utc: false, zone: 'CET', label: false }],
    ['LABEL PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE ', { variant: 'python', flags: ['--label'], time: 'none', utc: false, zone: null, label: true }],
    [PY_OLD, { variant: 'python-old', flags: [], time: 'none', utc: false, zone: null, label: false }],
    ['TIME-UTC     LABEL PCOMM            PID    PPID   TID    AGE(s)  EXIT_CODE', { variant: 'python-old', flags: ['--utc', '--label'], time: 'millis', utc: true, zone: 'UTC', label: true }],
  ])('%j', (header, expected) => {
    expect(exitsnoop.detect(header)).toEqual(expected)
  })

  test.each([
    'sh               13696   13694   13696   0.00    code 3',
    'PCOMM            PID     PPID    AGE(s)  EXIT_CODE',
    'PCOMM            PID    PPID   RET ARGS',
    'EXIT_CODE',
  ])('not a header: %j', (line) => {
    expect(exitsnoop.detect(line)).toBeUndefined()
  })
})

describe('exitsnoop rows', () => {
  test.each([
    ['libbpf 0', LIBBPF, '0', { ...EXIT_0, exit_text: '0' }],
    ['libbpf code 3', LIBBPF, 'code 3', { ...EXIT_0, exit_code: 3, exit_text: 'code 3' }],
    ['libbpf code 255', LIBBPF, 'code 255', { ...EXIT_0, exit_code: 255, exit_text: 'code 255' }],
    ['libbpf signal 9 (Killed)', LIBBPF, 'signal 9 (Killed)', { exit_code: null, signal: 9, signal_name: 'Killed', core_dumped: 0, exit_text: 'signal 9 (Killed)' }],
    [
      'libbpf core dump',
      LIBBPF,
      'signal 11 (Segmentation fault), core dumped',
      { exit_code: null, signal: 11, signal_name: 'Segmentation fault', core_dumped: 1, exit_text: 'signal 11 (Segmentation fault), core dumped' },
    ],
    [
      'libbpf real-time signal',
      LIBBPF,
      'signal 34 (Real-time signal 0)',
      { exit_code: null, signal: 34, signal_name: 'Real-time signal 0', core_dumped: 0, exit_text: 'signal 34 (Real-time signal 0)' },
    ],
    ['python 0', PY, '0', { ...EXIT_0, exit_text: '0' }],
    ['python signal 2 (INT)', PY, 'signal 2 (INT)', { exit_code: null, signal: 2, signal_name: 'INT', core_dumped: 0, exit_text: 'signal 2 (INT)' }],
    [
      'python core dump with its trailing space',
      PY,
      'signal 6 (ABRT), core dumped ',
      { exit_code: null, signal: 6, signal_name: 'ABRT', core_dumped: 1, exit_text: 'signal 6 (ABRT), core dumped' },
    ],
    ['python unknown signal name', PY, 'signal 99 (unknown)', { exit_code: null, signal: 99, signal_name: 'unknown', core_dumped: 0, exit_text: 'signal 99 (unknown)' }],
  ])('%s', (_name, header, exit, expected) => {
    const r = record(header, `sh               13696   13694   13696   0.00    ${exit}`)
    expect(r.values).toEqual({ label: null, comm: 'sh', pid: 13696, ppid: 13694, tid: 13696, age_s: 0, ...expected })
    expect(r.time).toBeUndefined()
    expect(r.timeText).toBeUndefined()
  })

  test.each([
    [
      'libbpf -t: TIME(s) header but a local HH:MM:SS clock',
      LIBBPF_T,
      '03:32:58 python3          14408   14400   14449   0.10    0',
      { label: null, comm: 'python3', pid: 14408, ppid: 14400, tid: 14449, age_s: 0.1, ...EXIT_0, exit_text: '0' },
      { kind: 'clock', hour: 3, minute: 32, second: 58, utc: false },
      '03:32:58',
    ],
    [
      'python --utc --label: milliseconds, UTC, short label',
      PY_UTC_LABEL,
      '13:20:22.997 exit  bash             18300   17656   18300   1.65    code 65',
      { label: 'exit', comm: 'bash', pid: 18300, ppid: 17656, tid: 18300, age_s: 1.65, ...EXIT_0, exit_code: 65, exit_text: 'code 65' },
      { kind: 'clock', hour: 13, minute: 20, second: 22, millis: 997, utc: true },
      '13:20:22.997',
    ],
    [
      'python label longer than 5 chars has no separator',
      PY_UTC_LABEL,
      '13:20:23.001 mylabel1bash             18301   17656   18301   1.70    signal 15 (TERM) ',
      { label: 'mylabel1', comm: 'bash', pid: 18301, ppid: 17656, tid: 18301, age_s: 1.7, exit_code: null, signal: 15, signal_name: 'TERM', core_dumped: 0, exit_text: 'signal 15 (TERM)' },
      { kind: 'clock', hour: 13, minute: 20, second: 23, millis: 1, utc: true },
      '13:20:23.001',
    ],
    [
      'python label merged into a COMM with a space',
      PY_UTC_LABEL,
      '13:20:23.002 batch-7Web Content      18302   17656   18309   0.05    0',
      { label: 'batch-7', comm: 'Web Content', pid: 18302, ppid: 17656, tid: 18309, age_s: 0.05, ...EXIT_0, exit_text: '0' },
      { kind: 'clock', hour: 13, minute: 20, second: 23, millis: 2, utc: true },
      '13:20:23.002',
    ],
    [
      'python -t in a local zone',
      PY_CET,
      '23:59:59.999 sleep            4001    4000    4001    10.00   0',
      { label: null, comm: 'sleep', pid: 4001, ppid: 4000, tid: 4001, age_s: 10, ...EXIT_0, exit_text: '0' },
      { kind: 'clock', hour: 23, minute: 59, second: 59, millis: 999, utc: false },
      '23:59:59.999',
    ],
  ])('%s', (_name, header, line, values, time, timeText) => {
    const r = record(header, line)
    expect(r.values).toEqual(values)
    expect(r.time).toEqual(time)
    expect(r.timeText).toBe(timeText)
  })

  test.each([
    ['AGE wider than 7 chars pushes EXIT_CODE', LIBBPF, 'sshd             1442    1       1442    123456.78 0', { pid: 1442, ppid: 1, age_s: 123456.78, exit_code: 0 }],
    ['7-digit PIDs push the columns', LIBBPF, 'worker           1234567 1234560 1234599 0.01    code 1', { pid: 1234567, ppid: 1234560, tid: 1234599, exit_code: 1 }],
    ['python <= 0.24 6-wide columns', PY_OLD, 'sleep            19014  19013  19014  0.23    signal 2 (INT)', { pid: 19014, ppid: 19013, tid: 19014, age_s: 0.23, signal: 2 }],
    ['COMM with spaces and digits', LIBBPF, 'tmux: server 2   5000    1       5000    99.99   0', { comm: 'tmux: server 2', pid: 5000, ppid: 1 }],
    ['non-ASCII COMM', LIBBPF, 'café' + ' '.repeat(11) + ' 5001    1       5001    0.00    0', { comm: 'café', pid: 5001, tid: 5001 }],
  ])('%s', (_name, header, line, expected) => {
    expect(record(header, line).values).toMatchObject(expected)
  })
})

test('a layout stored by an older tracedb (no zone key) still parses', () => {
  const old = { variant: 'python-old', flags: ['--utc', '--label'], time: 'millis', utc: true, label: true } as const
  const line = '13:20:31.495 exit  sleep            18318  18317  18318  1.38    signal 2 (INT)'
  expect(exitsnoop.classify(line, old, { previous: 'record', partial: false })).toEqual(
    exitsnoop.classify(line, exitsnoop.detect('TIME-UTC     LABEL PCOMM            PID    PPID   TID    AGE(s)  EXIT_CODE') as ExitsnoopLayout, { previous: 'record', partial: false }),
  )
})

describe('exitsnoop messages and bad lines', () => {
  const lines = (text: string) => parseText(text, [exitsnoop]).lines

  test('the empty line Python prints at Ctrl-C is a message', () => {
    expect(lines(`${PY}\nsh               1    0       1       0.00    0\n\n`).map((l) => l.kind)).toEqual(['header', 'record', 'message'])
  })

  test.each(['lost 3 events on CPU #1', 'This kernel keeps task->start_time in a struct timespec.', 'Retrying with --timespec'])(
    'known message: %s',
    (msg) => {
      expect(lines(`${LIBBPF}\n${msg}\n`).map((l) => l.kind)).toEqual(['header', 'message'])
    },
  )

  test.each([
    ['an unknown EXIT_CODE', `sleep            2127    2092    2127    1.00    exploded`, /^unrecognised EXIT_CODE: exploded$/],
    ['a row without EXIT_CODE', `sleep            2127    2092    2127    1.00`, /not an exitsnoop row/],
    ['garbage', `Error: packet too big`, /not an exitsnoop row/],
  ])('%s is bad, with the reason', (_name, line, reason) => {
    const l = lines(`${LIBBPF}\n${line}\n`)[1]!
    expect(l.kind).toBe('bad')
    expect(l.detail).toMatch(reason)
  })

  test('a partial last line is a record only when it matches a whole row', () => {
    expect(lines(`${LIBBPF}\nsleep            2127    2092    2127    1.00    code 3`).at(-1)!.kind).toBe('record')
    const cut = lines(`${LIBBPF}\nsleep            2127    2092    2127    1.`).at(-1)!
    expect(cut.kind).toBe('bad')
    expect(cut.detail).toMatch(/^truncated last line/)
  })

  test('a second header (tool restarted with >>) switches the layout', () => {
    const p = parseText(`${LIBBPF}\nsh               1    0       1       0.00    0\n${LIBBPF_T}\n03:32:58 sh               2    1       2       0.00    0\n`, [exitsnoop])
    expect(p.lines.map((l) => l.kind)).toEqual(['header', 'record', 'header', 'record'])
    expect(p.records[1]!.timeText).toBe('03:32:58')
  })
})
