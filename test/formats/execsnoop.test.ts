import { describe, expect, test } from 'vitest'
import execsnoop, { type ExecsnoopLayout, filenameOf, normalizeArgs } from '../../src/formats/execsnoop.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'

testFormatFixtures(execsnoop, {
  bad: { 'execsnoop.libbpf-n=tdbx.sigkill-partial-line.captured.log': 1 },
  noHeader: ['execsnoop.libbpf-T.sigterm-no-stdbuf-empty.captured.log'],
})

const LIBBPF = 'PCOMM            PID    PPID   RET ARGS'
const LIBBPF_TTU = 'TIME     TIME(s)  UID    PCOMM            PID    PPID   RET ARGS'
const LIBBPF_tU = 'TIME(s)  UID    PCOMM            PID    PPID   RET ARGS'
const LIBBPF_t = 'TIME(s)  PCOMM            PID    PPID   RET ARGS'
const LIBBPF_U = 'UID    PCOMM            PID    PPID   RET ARGS'
const PY31 = 'COMM             PID     PPID    RET ARGS'
const PY31_ALL = 'TIME     TIME(s) UID   COMM             PID     PCOMM            PPID    CPU  RET ARGS'
const PY_OLD_NOPPID = 'COMM             PID    RET ARGS'

/** A Python >= 0.31 `-T -t -U -M -C` row, built with the tool's printf widths. */
function py31All(p: { time: string; ts: string; uid: string; comm: string; pid: string; pcomm: string; ppid: string; cpu: string; ret: string; args: string }): string {
  return (
    p.time.padEnd(9) +
    p.ts.padEnd(8) +
    p.uid.padEnd(6) +
    `${p.comm.padEnd(16)} ${p.pid.padEnd(7)} ${p.pcomm.padEnd(16)} ${p.ppid.padEnd(7)} ${p.cpu.padEnd(4)} ${p.ret.padStart(3)} ${p.args}`
  )
}

const values = (header: string, line: string) => {
  const p = parseText(`${header}\n${line}\n`, [execsnoop])
  expect(p.lines.map((l) => l.kind)).toEqual(['header', 'record'])
  return p.records[0]!
}

const NULLS = { uid: null, pcomm: null, cpu: null, elapsed_s: null, args_truncated: 0 }

describe('execsnoop detect', () => {
  test.each([
    [LIBBPF, { variant: 'libbpf-or-python-old', flags: [], ppid: true, pidWidth: 6, libbpfArgs: true }],
    ['TIME     PCOMM            PID    PPID   RET ARGS', { variant: 'libbpf-or-python-old', flags: ['-T'], clock: true }],
    [LIBBPF_t, { variant: 'libbpf', flags: ['-t'], relative: true, libbpfArgs: true }],
    [LIBBPF_U, { variant: 'libbpf', flags: ['-U'], uid: true }],
    [LIBBPF_TTU, { variant: 'libbpf', flags: ['-T', '-t', '-U'], clock: true, relative: true, uid: true }],
    [PY31, { variant: 'python', flags: [], pidWidth: 7, libbpfArgs: false }],
    [PY31_ALL, { variant: 'python', flags: ['-T', '-t', '-U', '-M', '-C'], parentComm: true, cpu: true, pidWidth: 7 }],
    ['PCOMM            PID     PPID    RET ARGS', { variant: 'python-0.25', pidWidth: 7, libbpfArgs: false }],
    ['PCOMM            PID     PPID    CPU  RET ARGS', { variant: 'python-0.25', flags: ['-C'], cpu: true }],
    ['UID   PCOMM            PID    PPID   RET ARGS', { variant: 'python-old', flags: ['-U'], libbpfArgs: false }],
    ['UID   COMM             PID    PPID   RET ARGS', { variant: 'python-old', flags: ['-U'], pidWidth: 6 }],
    ['TIME     TIME(s) COMM             PID    PPID  RET ARGS', { variant: 'python-old', flags: ['-T', '-t'] }],
    [PY_OLD_NOPPID, { variant: 'python-old', ppid: false, libbpfArgs: false }],
  ])('%s', (header, expected) => {
    expect(execsnoop.detect(header)).toMatchObject(expected)
  })

  test.each([
    'sh               2001   2000     0 /bin/echo RET ARGS ',
    'sh               2001   2000     0 /bin/echo PCOMM PID PPID RET ARGS ',
    'PCOMM            PID    PCOMM  PPID   RET ARGS',
    'PCOMM            PID    PPID   RET',
    'true             13695   13694   13695   0.00    0',
  ])('not a header: %s', (line) => {
    expect(execsnoop.detect(line)).toBeUndefined()
  })

  test('the layout is JSON-serialisable', () => {
    const l = execsnoop.detect(PY31_ALL)
    expect(JSON.parse(JSON.stringify(l))).toEqual(l)
  })
})

describe('execsnoop rows', () => {
  test.each([
    [
      'libbpf: trailing space stripped exactly once (two empty args kept)',
      LIBBPF,
      'echo             12267  12257    0 /bin/echo   ',
      { ...NULLS, comm: 'echo', pid: 12267, ppid: 12257, ret: 0, args: '/bin/echo  ', filename: '/bin/echo' },
    ],
    [
      'libbpf: tab inside an argument',
      LIBBPF,
      'echo             12266  12257    0 /bin/echo tab\there ',
      { ...NULLS, comm: 'echo', pid: 12266, ppid: 12257, ret: 0, args: '/bin/echo tab\there', filename: '/bin/echo' },
    ],
    [
      'libbpf: PPID 0 (unknown) is NULL',
      LIBBPF,
      'init             1      0        0 /sbin/init ',
      { ...NULLS, comm: 'init', pid: 1, ppid: null, ret: 0, args: '/sbin/init', filename: '/sbin/init' },
    ],
    [
      'libbpf: --max-args marker "  ..." removed, args_truncated 1',
      LIBBPF,
      'printf           12264  12263    0 /bin/printf %s\\n a b  ...',
      { ...NULLS, comm: 'printf', pid: 12264, ppid: 12263, ret: 0, args: '/bin/printf %s\\n a b', filename: '/bin/printf', args_truncated: 1 },
    ],
    [
      'libbpf -q: quoted args kept, filename unquoted',
      LIBBPF,
      'echo             12820  12818    0 "/bin/echo" "hello world" "with \\"quotes\\"" ',
      {
        ...NULLS,
        comm: 'echo',
        pid: 12820,
        ppid: 12818,
        ret: 0,
        args: '"/bin/echo" "hello world" "with \\"quotes\\""',
        filename: '/bin/echo',
      },
    ],
    [
      'libbpf -q: quoted filename with a space',
      LIBBPF,
      'my prog          12821  12818    0 "/tmp/my prog" "-x" ',
      { ...NULLS, comm: 'my prog', pid: 12821, ppid: 12818, ret: 0, args: '"/tmp/my prog" "-x"', filename: '/tmp/my prog' },
    ],
    [
      'libbpf -q --max-args: dangling quote before " ..." removed',
      LIBBPF,
      'printf           12825  12824    0 "/bin/printf" "%s\\n" "a" " ...',
      { ...NULLS, comm: 'printf', pid: 12825, ppid: 12824, ret: 0, args: '"/bin/printf" "%s\\n" "a"', filename: '/bin/printf', args_truncated: 1 },
    ],
    [
      'libbpf -x: failed exec, negative RET, caller comm',
      LIBBPF,
      'work_exec.sh     12759  12754   -2 /nonexistent/binary ',
      { ...NULLS, comm: 'work_exec.sh', pid: 12759, ppid: 12754, ret: -2, args: '/nonexistent/binary', filename: '/nonexistent/binary' },
    ],
    [
      'COMM with spaces, 15 chars',
      LIBBPF,
      'tmux: server  x  2001   1        0 /usr/bin/tmux ',
      { ...NULLS, comm: 'tmux: server  x', pid: 2001, ppid: 1, ret: 0, args: '/usr/bin/tmux', filename: '/usr/bin/tmux' },
    ],
    [
      'COMM all digits',
      LIBBPF,
      '12345            2002   2001     0 /tmp/12345 ',
      { ...NULLS, comm: '12345', pid: 2002, ppid: 2001, ret: 0, args: '/tmp/12345', filename: '/tmp/12345' },
    ],
    [
      'COMM "Web Content" (space, then capital)',
      LIBBPF,
      'Web Content      2003   2001     0 /usr/lib/firefox/firefox -contentproc ',
      { ...NULLS, comm: 'Web Content', pid: 2003, ppid: 2001, ret: 0, args: '/usr/lib/firefox/firefox -contentproc', filename: '/usr/lib/firefox/firefox' },
    ],
    [
      'non-ASCII COMM (shorter in characters than in bytes)',
      LIBBPF,
      'café' + ' '.repeat(11) + ' 2004   2001     0 /tmp/café ',
      { ...NULLS, comm: 'café', pid: 2004, ppid: 2001, ret: 0, args: '/tmp/café', filename: '/tmp/café' },
    ],
    [
      'libbpf -U: uid 65534 then COMM',
      LIBBPF_U,
      '65534 sh               12666  12665    0 /bin/sh -c /bin/true ',
      { ...NULLS, uid: 65534, comm: 'sh', pid: 12666, ppid: 12665, ret: 0, args: '/bin/sh -c /bin/true', filename: '/bin/sh' },
    ],
    [
      'libbpf -U: 6-digit UID runs into a COMM starting with a digit',
      LIBBPF_U,
      '1000007z               3000   2999     0 /opt/7z ',
      { ...NULLS, uid: 100000, comm: '7z', pid: 3000, ppid: 2999, ret: 0, args: '/opt/7z', filename: '/opt/7z' },
    ],
    [
      'Python >= 0.31: PPID ? is NULL; no trailing space, nothing stripped',
      PY31,
      'sh               1234    ?         0 /bin/sh -c x ',
      { ...NULLS, comm: 'sh', pid: 1234, ppid: null, ret: 0, args: '/bin/sh -c x ', filename: '/bin/sh' },
    ],
    [
      'Python >= 0.31: 7-digit PIDs overflow and shift RET/ARGS',
      PY31,
      'testpkg          1234567 7654321   0 /usr/bin/testpkg',
      { ...NULLS, comm: 'testpkg', pid: 1234567, ppid: 7654321, ret: 0, args: '/usr/bin/testpkg', filename: '/usr/bin/testpkg' },
    ],
    [
      'Python: separate "..." argument is the truncation marker',
      PY31,
      'echo             1240    1239      0 /bin/echo a b ...',
      { ...NULLS, comm: 'echo', pid: 1240, ppid: 1239, ret: 0, args: '/bin/echo a b', filename: '/bin/echo', args_truncated: 1 },
    ],
    [
      'Python -q: quoted "..." marker',
      PY31,
      'echo             1241    1239      0 "/bin/echo" "a" "..."',
      { ...NULLS, comm: 'echo', pid: 1241, ppid: 1239, ret: 0, args: '"/bin/echo" "a"', filename: '/bin/echo', args_truncated: 1 },
    ],
    [
      'Python: an escaped newline stays two characters',
      PY31,
      'echo             1242    1239      0 /bin/echo line1\\nline2',
      { ...NULLS, comm: 'echo', pid: 1242, ppid: 1239, ret: 0, args: '/bin/echo line1\\nline2', filename: '/bin/echo' },
    ],
    [
      'historic COMM PID RET ARGS: no PPID',
      PY_OLD_NOPPID,
      'run              9660    -2 /usr/local/bin/setuidgid nobody /command/multilog t ./main',
      {
        ...NULLS,
        comm: 'run',
        pid: 9660,
        ppid: null,
        ret: -2,
        args: '/usr/local/bin/setuidgid nobody /command/multilog t ./main',
        filename: '/usr/local/bin/setuidgid',
      },
    ],
    [
      'historic python -l: 7-digit PIDs in 6-wide columns',
      'COMM             PID    PPID   RET ARGS',
      'service          3344535 4146419   0 /usr/sbin/service testpkg status',
      { ...NULLS, comm: 'service', pid: 3344535, ppid: 4146419, ret: 0, args: '/usr/sbin/service testpkg status', filename: '/usr/sbin/service' },
    ],
  ])('%s', (_name, header, line, expected) => {
    expect(values(header, line).values).toEqual(expected)
  })

  test.each([
    [
      'libbpf -t below 1000 s',
      LIBBPF_t,
      '1.970   work_exec.sh     12533  12486    0 /tmp/cap/work_exec.sh ',
      { elapsed_s: 1.97, uid: null, comm: 'work_exec.sh', pid: 12533 },
      { kind: 'relative', seconds: 1.97, since: 'tool_start', decimals: 3 },
      '1.970',
    ],
    [
      'libbpf -t at >= 1000 s merges into COMM',
      LIBBPF_t,
      '1011.927sh               5300   5290     0 /bin/sh ',
      { elapsed_s: 1011.927, uid: null, comm: 'sh', pid: 5300 },
      { kind: 'relative', seconds: 1011.927, since: 'tool_start', decimals: 3 },
      '1011.927',
    ],
    [
      'libbpf -t -U at >= 1000 s: TIME(s) and UID merge (1011.927 s, uid 0)',
      LIBBPF_tU,
      '1011.9270     true             21165  9994     0 /bin/true first-after-1000s ',
      { elapsed_s: 1011.927, uid: 0, comm: 'true', pid: 21165, ppid: 9994, args: '/bin/true first-after-1000s' },
      { kind: 'relative', seconds: 1011.927, since: 'tool_start', decimals: 3 },
      '1011.927',
    ],
    [
      'libbpf -t -U: 12345.678 s and a 6-digit UID all run together',
      LIBBPF_tU,
      '12345.678100000sh               5301   5290     0 /bin/sh ',
      { elapsed_s: 12345.678, uid: 100000, comm: 'sh', pid: 5301 },
      { kind: 'relative', seconds: 12345.678, since: 'tool_start', decimals: 3 },
      '12345.678',
    ],
    [
      'libbpf -T -t -U: TIME(s) is the time (to the ms), the wall second beside it anchors it',
      LIBBPF_TTU,
      '03:31:59 1.987   65534 sh               13244  13243    0 "/bin/sh" "-c" "/bin/true" ',
      { elapsed_s: 1.987, uid: 65534, comm: 'sh', pid: 13244, ppid: 13243, args: '"/bin/sh" "-c" "/bin/true"', filename: '/bin/sh' },
      { kind: 'relative', seconds: 1.987, since: 'tool_start', decimals: 3, wall: { hour: 3, minute: 31, second: 59, utc: false } },
      '03:31:59 1.987',
    ],
    [
      'Python >= 0.31 -T -t -U -M -C',
      PY31_ALL,
      py31All({ time: '14:08:23', ts: '2.849', uid: '1000', comm: 'mount', pid: '18049', pcomm: 'bash', ppid: '?', cpu: '3', ret: '0', args: '/bin/mount -p' }),
      { elapsed_s: 2.849, uid: 1000, comm: 'mount', pid: 18049, pcomm: 'bash', ppid: null, cpu: 3, ret: 0, args: '/bin/mount -p' },
      { kind: 'relative', seconds: 2.849, since: 'tool_start', decimals: 3, wall: { hour: 14, minute: 8, second: 23, utc: false } },
      '14:08:23 2.849',
    ],
    [
      'Python >= 0.31 -M with a 7-digit PID and a PCOMM with a space',
      PY31_ALL,
      py31All({ time: '14:08:24', ts: '1000.001', uid: '0', comm: 'sh', pid: '1234567', pcomm: 'Web Content', ppid: '1234560', cpu: '12', ret: '-13', args: '/bin/nope' }),
      { elapsed_s: 1000.001, uid: 0, comm: 'sh', pid: 1234567, pcomm: 'Web Content', ppid: 1234560, cpu: 12, ret: -13, args: '/bin/nope' },
      { kind: 'relative', seconds: 1000.001, since: 'tool_start', decimals: 3, wall: { hour: 14, minute: 8, second: 24, utc: false } },
      '14:08:24 1000.001',
    ],
  ])('%s', (_name, header, line, expected, time, timeText) => {
    const r = values(header, line)
    expect(r.values).toMatchObject(expected)
    expect(r.time).toEqual(time)
    expect(r.timeText).toBe(timeText)
  })
})

describe('execsnoop continuation, messages and bad lines', () => {
  const kinds = (text: string) => parseText(text, [execsnoop]).lines.map((l) => l.kind)

  test('a raw newline inside an argument continues the row (libbpf); trailing space stripped once', () => {
    const p = parseText(
      `${LIBBPF}\necho             12265  12257    0 /bin/echo line1\nline2 \nsh               2001   2000     0 /bin/sh -c a\n\tb\nc  \n`,
      [execsnoop],
    )
    expect(p.lines.map((l) => l.kind)).toEqual(['header', 'record', 'continuation', 'record', 'continuation', 'continuation'])
    expect(p.records.map((r) => r.values.args)).toEqual(['/bin/echo line1\nline2', '/bin/sh -c a\n\tb\nc '])
  })

  test.each([
    ['Lost 3 events on CPU #1!'],
    ['libbpf: failed to find valid kernel BTF'],
    [''],
  ])('a known message after a row stays a message: %j', (msg) => {
    expect(kinds(`${LIBBPF}\nsh               2001   2000     0 /bin/sh \n${msg}\n`)).toEqual(['header', 'record', 'message'])
  })

  test('a continuation after an interleaved message still continues the row', () => {
    const p = parseText(`${LIBBPF}\nsh               2001   2000     0 /bin/echo a\nLost 1 events on CPU #0!\nb \n`, [execsnoop])
    expect(p.lines.map((l) => l.kind)).toEqual(['header', 'record', 'message', 'continuation'])
    expect(p.records[0]!.values.args).toBe('/bin/echo a\nb')
  })

  test.each([
    ['right after the header (libbpf)', `${LIBBPF}\nsomething odd\n`, ['header', 'bad']],
    ['after a row, in a Python log (newlines are escaped there)', `${PY31}\nsh               1234    1233      0 /bin/sh\nsomething odd\n`, ['header', 'record', 'bad']],
  ])('a non-row line is bad %s', (_name, text, expected) => {
    expect(kinds(text)).toEqual(expected)
  })

  test.each([
    ['the partial-line fixture tail (no RET/ARGS)', LIBBPF, 'tdbx             2001', 'bad'],
    ['a libbpf row cut inside ARGS', LIBBPF, 'tdbx             20011  19873    0 /tmp/cap/tdbx arg-4', 'bad'],
    ['a libbpf row cut after RET', LIBBPF, 'tdbx             20011  19873    0', 'bad'],
    ['a complete libbpf row (ends with its space)', LIBBPF, 'tdbx             20011  19873    0 /tmp/cap/tdbx arg-4 ', 'record'],
    ['a complete truncated libbpf row', LIBBPF, 'tdbx             20011  19873    0 /tmp/cap/tdbx a  ...', 'record'],
    ['a Python row (no trailing space to check)', PY31, 'sh               1234    1233      0 /bin/sh', 'record'],
  ])('last line without newline: %s', (_name, header, line, kind) => {
    const p = parseText(`${header}\nsh               2001   2000     0 /bin/sh \n${line}`, [execsnoop])
    const last = p.lines.at(-1)!
    expect(last.kind).toBe(kind)
    if (kind === 'bad') expect(last.detail).toMatch(/^truncated last line \(no newline\): /)
  })

  test('a second header mid-file switches the layout', () => {
    const p = parseText(
      `${LIBBPF}\nsh               2001   2000     0 /bin/sh \n${LIBBPF_tU}\n1011.9270     true             21165  9994     0 /bin/true \n`,
      [execsnoop],
    )
    expect(p.lines.map((l) => l.kind)).toEqual(['header', 'record', 'header', 'record'])
    expect(p.layout).toMatchObject({ variant: 'libbpf', flags: ['-t', '-U'] })
    expect(p.records[1]!.values).toMatchObject({ elapsed_s: 1011.927, uid: 0, comm: 'true' })
  })
})

describe('execsnoop layouts stored by an older tracedb (resumed ingest)', () => {
  // before pidWidth/libbpfArgs existed; the same keys otherwise
  const old = { variant: 'libbpf', flags: ['-t', '-U'], clock: false, relative: true, uid: true, parentComm: false, ppid: true, cpu: false } as const
  const ctx = { previous: 'record', partial: false } as const

  test('a row parses as with a fresh layout', () => {
    const line = '1011.9270     true             21165  9994     0 /bin/true x  ...'
    expect(execsnoop.classify(line, old, ctx)).toEqual(execsnoop.classify(line, execsnoop.detect(LIBBPF_tU) as ExecsnoopLayout, ctx))
    expect(execsnoop.classify(line, old, ctx)).toMatchObject({ kind: 'record', values: { elapsed_s: 1011.927, uid: 0, args: '/bin/true x', args_truncated: 1 } })
  })

  test('libbpf continuation lines still continue', () => {
    expect(execsnoop.classify('line2 ', old, ctx)).toEqual({ kind: 'continuation', column: 'args', append: 'line2' })
  })
})

describe('execsnoop helpers', () => {
  test.each([
    ['/bin/true ', true, '/bin/true', false],
    ['/bin/echo   ', true, '/bin/echo  ', false],
    ['/bin/echo line1', true, '/bin/echo line1', false],
    ['/bin/printf a  ...', true, '/bin/printf a', true],
    ['"/bin/printf" "a" " ...', true, '"/bin/printf" "a"', true],
    ['/bin/echo ... ', true, '/bin/echo ...', false],
    ['/bin/echo a ...', false, '/bin/echo a', true],
    ['"/bin/echo" "a" "..."', false, '"/bin/echo" "a"', true],
    ['/bin/echo a ', false, '/bin/echo a ', false],
  ])('normalizeArgs(%j, libbpf=%s)', (raw, libbpf, args, truncated) => {
    expect(normalizeArgs(raw, libbpf)).toEqual({ args, truncated })
  })

  test.each([
    ['/bin/ls -la', '/bin/ls'],
    ['/bin/ls', '/bin/ls'],
    ['', null],
    ['"/tmp/a \\"b\\"" "-x"', '/tmp/a "b"'],
    ['"/bin/true"', '/bin/true'],
  ])('filenameOf(%j)', (args, filename) => {
    expect(filenameOf(args)).toBe(filename)
  })
})
