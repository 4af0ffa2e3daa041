import { describe, expect, test } from 'vitest'
import execsnoop from '../../src/formats/execsnoop.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'

testFormatFixtures(execsnoop, {
  bad: { 'execsnoop.libbpf-n=tdbx.sigkill-partial-line.captured.log': 1 },
  noHeader: ['execsnoop.libbpf-T.sigterm-no-stdbuf-empty.captured.log'],
})

const one = (header: string, line: string) => parseText(`${header}\n${line}\n`, [execsnoop]).records[0]?.values

describe('execsnoop rows', () => {
  test.each([
    [
      'libbpf -T -U, trailing space stripped once',
      'TIME     UID    PCOMM            PID    PPID   RET ARGS',
      '05:21:01 0     true             2094   2092     0 /bin/true ',
      { uid: 0, comm: 'true', pid: 2094, ppid: 2092, ret: 0, args: '/bin/true', filename: '/bin/true' },
    ],
    [
      'libbpf -t -U after 1000 s: TIME(s) and UID merge',
      'TIME(s)  UID    PCOMM            PID    PPID   RET ARGS',
      '1011.9270     true             5300   5290     0 /bin/true ',
      { elapsed_s: 1011.927, uid: 0, comm: 'true', pid: 5300 },
    ],
    [
      'failed exec keeps the caller comm and a negative ret',
      'PCOMM            PID    PPID   RET ARGS',
      'work_exec.sh     2140   2092    -2 /nonexistent/binary ',
      { comm: 'work_exec.sh', ret: -2, args: '/nonexistent/binary' },
    ],
    [
      'python ppid ? is NULL; no trailing space to strip',
      'COMM             PID     PPID    RET ARGS',
      'sh               1234    ?         0 /bin/sh -c x ',
      { ppid: null, args: '/bin/sh -c x ' },
    ],
    [
      '7-digit PIDs overflow their columns',
      'COMM             PID     PPID    RET ARGS',
      'testpkg          1234567 7654321   0 /usr/bin/testpkg',
      { pid: 1234567, ppid: 7654321, ret: 0, args: '/usr/bin/testpkg' },
    ],
    [
      'a comm with a space',
      'PCOMM            PID    PPID   RET ARGS',
      'tmux: server     2001   1        0 /usr/bin/tmux ',
      { comm: 'tmux: server', pid: 2001, ppid: 1 },
    ],
    [
      'max-args truncation marker',
      'PCOMM            PID    PPID   RET ARGS',
      'echo             2200   2092     0 /bin/echo a b  ...',
      { args_truncated: 1 },
    ],
  ])('%s', (_name, header, line, expected) => {
    expect(one(header, line)).toMatchObject(expected)
  })

  test('TIME(s) alone is a relative time since the tool started', () => {
    const r = parseText('TIME(s)  PCOMM            PID    PPID   RET ARGS\n1011.927sh               5300   5290     0 /bin/sh \n', [execsnoop]).records[0]!
    expect(r.values).toMatchObject({ comm: 'sh', pid: 5300 })
    expect(r.time).toEqual({ kind: 'relative', seconds: 1011.927, since: 'tool_start', decimals: 3 })
  })

  test('a raw newline inside an argument continues the row', () => {
    const p = parseText(
      'PCOMM            PID    PPID   RET ARGS\nsh               2001   2000     0 /bin/sh -c echo a\nb \ntrue             2002   2001     0 /bin/true \n',
      [execsnoop],
    )
    expect(p.lines.map((l) => l.kind)).toEqual(['header', 'record', 'continuation', 'record'])
    expect(p.records[0]!.values.args).toBe('/bin/sh -c echo a\nb')
  })

  test('lost events and libbpf messages are messages, not continuations', () => {
    const p = parseText('PCOMM            PID    PPID   RET ARGS\nsh               2001   2000     0 /bin/sh \nLost 3 events on CPU #1!\n', [execsnoop])
    expect(p.lines.map((l) => l.kind)).toEqual(['header', 'record', 'message'])
  })
})
