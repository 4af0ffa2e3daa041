import { describe, expect, test } from 'vitest'
import sofdsnoop from '../../src/formats/sofdsnoop.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'

testFormatFixtures(sofdsnoop)

const parse = (header: string, line: string) => parseText(`${header}\n${line}\n`, [sofdsnoop])
const DEFAULT = 'ACTION TID    COMM             SOCKET                    FD    NAME'
const TIMED = 'TIME(s)       ACTION TID    COMM             SOCKET                    FD    NAME'
/** Values every row below shares unless it says otherwise. */
const DEFAULTS: Record<string, unknown> = { action: 'RECV', tid: 2576, pid: null, comm: 'Web Content' }

describe('sofdsnoop detect', () => {
  test.each([
    [DEFAULT, { variant: 'python', flags: [], relative: false }],
    [TIMED, { variant: 'python', flags: ['-T'], relative: true }],
    ['SEND   2576   Web Content      24:socket:[39763]         51    ACTION TID COMM SOCKET FD NAME', undefined],
  ])('%s', (line, expected) => {
    expect(sofdsnoop.detect(line)).toEqual(expected)
  })
})

describe('sofdsnoop rows', () => {
  test.each([
    [
      'TIME(s) >= 1000 s touches ACTION; NAME with spaces and digits',
      TIMED,
      '1000.000001000SEND   2576   Web Content      24:socket:[39763]         51    /tmp/a file 12 x',
      { action: 'SEND', tid: 2576, pid: null, comm: 'Web Content', sock_fd: 24, socket: 'socket:[39763]', fd: 51, name: '/tmp/a file 12 x' },
    ],
    [
      'an overflowing SOCKET with ` 12` inside, RECV with a 6-digit FD and trailing space',
      DEFAULT,
      'RECV   2576   Web Content      49:/tmp/dir 12/long name here (deleted) 123456 ',
      { action: 'RECV', sock_fd: 49, socket: '/tmp/dir 12/long name here (deleted)', fd: 123456, name: null },
    ],
    [
      'a short SOCKET ending in digits is a 25-wide field; NAME N/A',
      DEFAULT,
      'SEND   2576   Web Content      7:/tmp/x 12               3     N/A',
      { action: 'SEND', sock_fd: 7, socket: '/tmp/x 12', fd: 3, name: null },
    ],
    [
      'SOCKET target N/A, RECV with trailing spaces stripped',
      DEFAULT,
      'RECV   2576   Web Content      49:N/A                    5',
      { sock_fd: 49, socket: null, fd: 5, name: null },
    ],
    [
      'the fixture overflow: SOCKET with (deleted), one space before FD',
      DEFAULT,
      'RECV   2576   Web Content      51:/dev/shm/org.mozilla.ipc.2576.25319 (deleted) 49',
      { sock_fd: 51, socket: '/dev/shm/org.mozilla.ipc.2576.25319 (deleted)', fd: 49, name: null },
    ],
  ])('%s', (_name, header, line, expected) => {
    const p = parse(header, line)
    expect(p.lines[1]?.kind, JSON.stringify(p.lines[1])).toBe('record')
    expect(p.records[0]?.values).toEqual({ ...DEFAULTS, ...expected })
  })

  test('TIME(s) is relative to the first event', () => {
    expect(parse(TIMED, '0.000413000   RECV   2576   Web Content      49:socket:[809997]        51').records[0]).toMatchObject({
      timeText: '0.000413000',
      time: { kind: 'relative', seconds: 0.000413, since: 'first_event', decimals: 9 },
    })
  })

  test.each([
    ['SEND   2576   Web Content      24:socket:[39763] 51    x', /SOCKET is not followed by an FD/],
    ['OPEN   2576   Web Content      24:socket:[39763]         51    x', /^not a sofdsnoop row/],
  ])('%s is bad', (line, reason) => {
    expect(parse(DEFAULT, line).lines[1]).toMatchObject({ kind: 'bad', detail: expect.stringMatching(reason) })
  })
})
