import { describe, expect, test } from 'vitest'
import filelife from '../../src/formats/filelife.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'

testFormatFixtures(filelife, { noHeader: ['filelife.libbpf-default.attach-failure.captured.log'] })

const parse = (header: string, line: string) => parseText(`${header}\n${line}\n`, [filelife])
const PID6 = 'TIME     PID    COMM             AGE(s)  FILE'
const PID7 = 'TIME     PID     COMM             AGE(s)  FILE'

describe('filelife detect', () => {
  test.each([
    ['Tracing the lifespan of short-lived files ... Hit Ctrl-C to end.', 'banner'],
    [PID6, { variant: 'libbpf/python-0.24', flags: [] }],
    [PID7, { variant: 'python', flags: [] }],
    ['05:57:59 8556   gcc              0.04    TIME PID COMM AGE(s) FILE', undefined],
  ])('%s', (line, expected) => {
    expect(filelife.detect(line)).toEqual(expected)
  })

  test('the libbpf banner then the header', () => {
    const p = parseText(`Tracing the lifespan of short-lived files ... Hit Ctrl-C to end.\n${PID6}\n05:57:59 8556   gcc              0.04    x\n`, [filelife])
    expect(p.lines.map((l) => l.kind)).toEqual(['message', 'header', 'record'])
  })

  test('attach errors without a header are messages', () => {
    const p = parseText("libbpf: prog 'vfs_create': failed to auto-attach: -2\nfailed to attach BPF programs\n", [filelife])
    expect(p.lines.map((l) => l.kind)).toEqual(['message', 'message'])
  })
})

describe('filelife rows', () => {
  test.each([
    ['a 7-digit PID overflows the 6-wide column', PID6, '05:57:59 1234567 gcc              0.04    x.s', { pid: 1234567, comm: 'gcc', age_s: 0.04, file: 'x.s' }],
    ['a long AGE pushes FILE; FILE with spaces', PID7, '05:57:59 8556    gcc              12345.67 name with spaces.tmp', { pid: 8556, age_s: 12345.67, file: 'name with spaces.tmp' }],
    ['FILE starting with spaces keeps them', PID7, '05:57:59 8556    gcc              0.04      leading', { file: '  leading' }],
    ['COMM with a space, empty FILE', PID7, '05:57:59 8556    my tool          0.04    ', { comm: 'my tool', file: null }],
    ['AGE 0.00 (Python 1 ms resolution)', PID6, '05:58:01 8690   collect2         0.00    ccvKMxdm.ld', { age_s: 0, file: 'ccvKMxdm.ld' }],
  ])('%s', (_name, header, line, expected) => {
    const p = parse(header, line)
    expect(p.lines[1]?.kind, JSON.stringify(p.lines[1])).toBe('record')
    expect(p.records[0]?.values).toMatchObject(expected)
    expect(p.records[0]).toMatchObject({ timeText: '05:5' + line.slice(4, 8), time: { kind: 'clock', utc: false } })
  })

  test('the clock time', () => {
    expect(parse(PID6, '05:57:59 8556   gcc              0.04    x').records[0]?.time).toEqual({ kind: 'clock', hour: 5, minute: 57, second: 59, utc: false })
  })

  test('AGE with 3 decimals is bad', () => {
    expect(parse(PID6, '05:57:59 8556   gcc              0.041   x').lines[1]).toMatchObject({ kind: 'bad', detail: expect.stringMatching(/AGE/) })
  })
})
