// https://github.com/iovisor/bcc/blob/master/tools/execsnoop_example.txt
import { commonMessage } from './messages.js'
import type { Layout, LineResult, LogFormat, RecordTime, RowValues } from './types.js'

/**
 * Header-derived layout of an execsnoop log.
 *
 * Variants (from the execsnoop format spec, section 1):
 * - `libbpf`: header `PCOMM ... PID    PPID` (6 wide) with libbpf's misaligned
 *   `TIME(s)  ` / `UID    ` prefix, so certainly libbpf-tools;
 * - `libbpf-or-python-old`: the same header without `-t`/`-U`: libbpf-tools or
 *   Python <= 0.24, which print identical headers (parsed like libbpf);
 * - `python`: `COMM ... PID     PPID` (7 wide), Python >= 0.31, maybe `PCOMM`/`CPU`;
 * - `python-0.25`: `PCOMM ... PID     PPID` (7 wide), Python 0.25 – 0.30;
 * - `python-old`: historic Python headers: `COMM` with 6-wide PID, no `PPID`
 *   column at all (`COMM PID RET ARGS`), or `PCOMM` with Python's prefix spacing.
 */
export interface ExecsnoopLayout extends Layout {
  readonly variant: 'libbpf' | 'libbpf-or-python-old' | 'python' | 'python-0.25' | 'python-old'
  /** `-T`: wall-clock `HH:MM:SS` column. */
  readonly clock: boolean
  /** `-t`: `TIME(s)` seconds since the tool started. */
  readonly relative: boolean
  /** `-U`: UID column. */
  readonly uid: boolean
  /** Python `-M`: parent comm column after PID. */
  readonly parentComm: boolean
  /** false only for the historic `COMM PID RET ARGS` header. */
  readonly ppid: boolean
  /** Python `-C`: CPU column before RET. */
  readonly cpu: boolean
  /**
   * printf width of PID/PPID: 6 (libbpf, old Python) or 7 (Python >= 0.25).
   * Absent in layouts stored by older tracedb versions (then 7: only read
   * with `parentComm`, which only Python >= 0.31 prints).
   */
  readonly pidWidth?: 6 | 7
  /**
   * libbpf ARGS conventions: one trailing space after ARGS, `  ...` (or `" ...`
   * with -q) truncation marker, raw newlines in arguments (continuation lines).
   * Absent in layouts stored by older tracedb versions: see {@link libbpfArgs}.
   */
  readonly libbpfArgs?: boolean
}

const HEADER_RE =
  /^(?<time>TIME +)?(?<ts>TIME\(s\) +)?(?<uid>UID +)?(?<first>P?COMM) +PID(?<gap> +)(?:(?<pcomm>PCOMM) +)?(?:(?<ppid>PPID) +)?(?:(?<cpu>CPU) +)?RET ARGS\s*$/

/** `%-<width>d`: digits left-aligned in `width` chars, no separator. */
function leftInt(width: number): string {
  const alts = [`\\d{${width},}`]
  for (let k = width - 1; k >= 1; k--) alts.push(`\\d{${k}} {${width - k}}`)
  return alts.join('|')
}

/** `%-8.3f`: seconds with 3 decimals left-aligned in 8 chars, no separator. */
const ELAPSED = ['\\d{4,}\\.\\d{3}', '\\d{3}\\.\\d{3} ', '\\d{2}\\.\\d{3}  ', '\\d\\.\\d{3}   '].join('|')

function rowSource(l: ExecsnoopLayout, fixedComm: boolean): string {
  // COMM/PCOMM are `%-16s ` (comm <= 15 bytes). Fixed width is exact for
  // ASCII; a line with multi-byte or replaced characters is shorter in
  // UTF-16 units, so the fallback takes the shortest field before a PID.
  const comm = (name: string): string => (fixedComm ? `(?<${name}>.{16}) ` : `(?<${name}>.{0,16}?) +`)
  let s = '^'
  if (l.clock) s += '(?<h>\\d\\d):(?<mi>\\d\\d):(?<se>\\d\\d) '
  if (l.relative) s += `(?<elapsed>${ELAPSED})`
  if (l.uid) s += `(?<uid>${leftInt(6)})`
  s += comm('comm')
  if (l.parentComm) s += `(?<pid>${leftInt(l.pidWidth ?? 7)}) ` + comm('pcomm')
  else s += '(?<pid>\\d+) +'
  if (l.ppid) s += '(?<ppid>\\d+|\\?) +'
  if (l.cpu) s += '(?<cpu>\\d+) +'
  s += '(?<ret>-?\\d+) (?<args>.*)$'
  return s
}

const ROW_CACHE = new Map<string, { fixed: RegExp; loose: RegExp }>()
/** The regexes of a layout object, found without building its key (this runs for every row). */
const ROWS_OF_LAYOUT = new WeakMap<ExecsnoopLayout, { fixed: RegExp; loose: RegExp }>()

function rowRegexes(l: ExecsnoopLayout): { fixed: RegExp; loose: RegExp } {
  const known = ROWS_OF_LAYOUT.get(l)
  if (known) return known
  const key = [l.clock, l.relative, l.uid, l.parentComm, l.ppid, l.cpu, l.pidWidth ?? 7].join()
  let re = ROW_CACHE.get(key)
  if (!re) {
    re = { fixed: new RegExp(rowSource(l, true), 's'), loose: new RegExp(rowSource(l, false), 's') }
    ROW_CACHE.set(key, re)
  }
  ROWS_OF_LAYOUT.set(l, re)
  return re
}

/** Whether rows follow libbpf's ARGS conventions (older stored layouts lack the key). */
function libbpfArgs(l: ExecsnoopLayout): boolean {
  return l.libbpfArgs ?? (l.variant === 'libbpf' || l.variant === 'libbpf-or-python-old')
}

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/

/** ARGS as printed → args without the trailing space/marker, truncated flag. */
export function normalizeArgs(raw: string, libbpf: boolean): { args: string; truncated: boolean } {
  let args = raw
  let truncated = false
  if (libbpf) {
    // every argument is followed by one space; " ..." is appended after that
    // when --max-args was exceeded; with -q a stray `"` precedes it.
    if (args.endsWith('  ...')) {
      truncated = true
      args = args.slice(0, -4)
    } else if (args.startsWith('"') && args.endsWith(' " ...')) {
      truncated = true
      args = args.slice(0, -5)
    }
    if (args.endsWith(' ')) args = args.slice(0, -1)
  } else if (args.endsWith(' ...')) {
    // Python appends a separate `...` argument
    truncated = true
    args = args.slice(0, -4)
  } else if (args.startsWith('"') && args.endsWith(' "..."')) {
    truncated = true
    args = args.slice(0, -6)
  }
  return { args, truncated }
}

const QUOTED_FIRST = /^"((?:[^"\\]|\\.)*)"/s

/** The path passed to execve: the first (maybe quoted) word of ARGS. */
export function filenameOf(args: string): string | null {
  if (args.startsWith('"')) {
    const m = QUOTED_FIRST.exec(args)
    if (m) return (m[1] ?? '').replace(/\\"/g, '"')
  }
  const space = args.indexOf(' ')
  const first = space < 0 ? args : args.slice(0, space)
  return first === '' ? null : first
}

function classify(line: string, layout: ExecsnoopLayout, ctx: { previous: LineResult['kind'] | undefined; partial: boolean }): LineResult {
  const res = rowRegexes(layout)
  let m = res.fixed.exec(line)
  if (!m && NON_ASCII.test(line)) m = res.loose.exec(line)
  const g = m?.groups
  if (g) {
    const rawArgs = g.args ?? ''
    const libbpf = libbpfArgs(layout)
    const { args, truncated } = normalizeArgs(rawArgs, libbpf)
    if (ctx.partial && libbpf && !truncated && !rawArgs.endsWith(' ')) {
      return { kind: 'bad', reason: 'row cut off in ARGS (a complete libbpf row ends with a space)' }
    }
    let time: RecordTime | undefined
    let timeText: string | undefined
    if (g.h !== undefined) {
      const hour = Number(g.h)
      const minute = Number(g.mi)
      const second = Number(g.se)
      if (hour > 23 || minute > 59 || second > 60) return { kind: 'bad', reason: `invalid TIME ${g.h}:${g.mi}:${g.se}` }
      time = { kind: 'clock', hour, minute, second, utc: false }
      timeText = `${g.h}:${g.mi}:${g.se}`
    }
    const elapsedText = g.elapsed?.trimEnd()
    const elapsed = elapsedText === undefined ? null : Number(elapsedText)
    if (elapsedText !== undefined) {
      // -t, alone or with -T: the ms-exact relative time is the row's time;
      // the wall second printed beside it (-T) anchors the relative clock
      const wall = time?.kind === 'clock' ? { hour: time.hour, minute: time.minute, second: time.second, utc: false } : undefined
      time = { kind: 'relative', seconds: elapsed ?? 0, since: 'tool_start', decimals: 3, ...(wall ? { wall } : {}) }
      timeText = timeText === undefined ? elapsedText : `${timeText} ${elapsedText}`
    }
    const ppidText = g.ppid
    const ppid = ppidText === undefined || ppidText === '?' || ppidText === '0' ? null : Number(ppidText)
    const values: RowValues = {
      uid: g.uid === undefined ? null : Number(g.uid.trimEnd()),
      comm: (g.comm ?? '').trimEnd(),
      pid: Number(g.pid?.trimEnd()),
      ppid,
      pcomm: g.pcomm === undefined ? null : g.pcomm.trimEnd(),
      cpu: g.cpu === undefined ? null : Number(g.cpu),
      ret: Number(g.ret),
      args,
      filename: filenameOf(args),
      args_truncated: truncated ? 1 : 0,
      elapsed_s: elapsed,
    }
    return {
      kind: 'record',
      values,
      ...(time ? { time } : {}),
      ...(timeText !== undefined ? { timeText } : {}),
    }
  }
  const message = commonMessage(line)
  if (message !== undefined) return { kind: 'message', message }
  if (ctx.partial) return { kind: 'bad', reason: 'incomplete execsnoop row (the tool was killed mid-row?)' }
  if (libbpfArgs(layout) && (ctx.previous === 'record' || ctx.previous === 'continuation')) {
    // raw newline inside an argument: the row goes on on this line
    return { kind: 'continuation', column: 'args', append: line.endsWith(' ') ? line.slice(0, -1) : line }
  }
  return { kind: 'bad', reason: 'not an execsnoop row: expected [TIME] [TIME(s)] [UID] COMM, PID, [PPID], RET and ARGS' }
}

function detect(line: string): ExecsnoopLayout | undefined {
  if (!line.includes(' RET ARGS')) return undefined
  const g = HEADER_RE.exec(line)?.groups
  if (!g) return undefined
  const first = g.first
  const wide = (g.gap ?? '').length >= 5
  const ppid = g.ppid !== undefined
  const pcomm = g.pcomm !== undefined
  const cpu = g.cpu !== undefined
  // libbpf pads the TIME(s)/UID header one char wider (`%-8s ` / `%-6s `)
  const libbpfPrefix = g.ts?.length === 9 || g.uid?.length === 7
  const pythonPrefix = g.ts?.length === 8 || g.uid?.length === 6
  let variant: ExecsnoopLayout['variant']
  if (first === 'COMM') {
    variant = pcomm || cpu || (ppid && wide) ? 'python' : 'python-old'
  } else {
    if (pcomm || !ppid) return undefined
    if (wide) variant = 'python-0.25'
    else if (cpu) return undefined
    else if (libbpfPrefix) variant = 'libbpf'
    else if (pythonPrefix) variant = 'python-old'
    else variant = 'libbpf-or-python-old'
  }
  const flags: string[] = []
  if (g.time !== undefined) flags.push('-T')
  if (g.ts !== undefined) flags.push('-t')
  if (g.uid !== undefined) flags.push('-U')
  if (pcomm) flags.push('-M')
  if (cpu) flags.push('-C')
  return {
    variant,
    flags,
    clock: g.time !== undefined,
    relative: g.ts !== undefined,
    uid: g.uid !== undefined,
    parentComm: pcomm,
    ppid,
    cpu,
    pidWidth: wide ? 7 : 6,
    libbpfArgs: variant === 'libbpf' || variant === 'libbpf-or-python-old',
  }
}

const execsnoop: LogFormat<ExecsnoopLayout> = {
  name: 'execsnoop',
  title: 'execsnoop — one row per execve()',
  description:
    'One row per completed execve() (failed ones too with -x): the new program, its PID and parent, and its arguments.',
  url: 'https://github.com/iovisor/bcc/blob/master/tools/execsnoop_example.txt',
  columns: [
    { name: 'uid', kind: 'integer', description: 'Real UID of the calling process (-U), else NULL.' },
    {
      name: 'comm',
      kind: 'text',
      description: 'Task name after the exec (the new program, max 15 chars); the caller for a failed exec.',
    },
    { name: 'pid', kind: 'integer', description: 'Process ID (tgid) that called execve().' },
    {
      name: 'ppid',
      kind: 'integer',
      description: 'Parent process ID; NULL when unknown (Python prints ?, libbpf prints 0) or not printed.',
    },
    { name: 'pcomm', kind: 'text', description: "Parent's task name (Python -M), else NULL." },
    { name: 'cpu', kind: 'integer', description: 'CPU the exec returned on (Python -C), else NULL.' },
    { name: 'ret', kind: 'integer', description: 'execve() return value: 0 on success, negative errno on failure (-x).' },
    {
      name: 'args',
      kind: 'text',
      description:
        'Filename and argv[1..] as printed, space-separated (libbpf trailing space and the " ..." marker removed; raw newlines kept as \\n line breaks).',
    },
    { name: 'filename', kind: 'text', description: 'Path passed to execve(): the first word of ARGS (unquoted with -q).' },
    {
      name: 'args_truncated',
      kind: 'integer',
      description: '1 when the tool cut the argument list at --max-args (row ended in " ..."), else 0.',
    },
    {
      name: 'elapsed_s',
      kind: 'real',
      unit: 's',
      description:
        "TIME(s) column (-t): seconds since the tool started, taken at print time; else NULL. The row's ts is counted from the tool's start (source.rel_anchor_ts), which -T -t lines pin to a few ms.",
    },
  ],
  relativeColumn: 'elapsed_s',
  detect,
  classify,
  samples: [
    {
      header: 'PCOMM            PID    PPID   RET ARGS',
      lines: [
        'work_exec.sh     12257  12211    0 /tmp/cap/work_exec.sh ',
        'echo             12259  12257    0 /bin/echo hello world with "quotes" ',
        'printf           12264  12263    0 /bin/printf %s\\n a b c d e f g h i j k l m n o p q r  ...',
        'echo             12267  12257    0 /bin/echo   ',
        'a_very_long_com  12269  12257    0 /tmp/cap/a_very_long_command_name_exceeding ',
      ],
    },
    {
      header: 'TIME     TIME(s)  UID    PCOMM            PID    PPID   RET ARGS',
      lines: [
        '03:31:59 1.963   0     work_exec.sh     13229  13208    0 "/tmp/cap/work_exec.sh" ',
        '03:31:59 1.971   0     work_exec.sh     13234  13229   -2 "/nonexistent/binary" ',
        '03:31:59 1.987   65534 sh               13244  13243    0 "/bin/sh" "-c" "/bin/true" ',
      ],
    },
    {
      header: 'TIME(s)  UID    PCOMM            PID    PPID   RET ARGS',
      lines: [
        '1.924   0     sleep            11348  9994     0 /usr/bin/sleep 1010 ',
        '1011.9270     true             21165  9994     0 /bin/true first-after-1000s ',
      ],
    },
    {
      header: 'TIME     TIME(s) COMM             PID    PPID  RET ARGS',
      lines: ['14:08:23 2.849   mount            18049  1045    0 /bin/mount -p'],
    },
    {
      header: 'UID   COMM             PID    PPID   RET ARGS',
      lines: ['1000  ls               171335 133702   0 /bin/ls --color=auto'],
    },
    {
      header: 'COMM             PID    PPID   RET ARGS',
      lines: ['service          3344535 4146419   0 /usr/sbin/service testpkg status'],
    },
    {
      header: 'COMM             PID    RET ARGS',
      lines: ['bash             15887    0 /usr/bin/man ls', 'run              9660    -2 /usr/local/bin/setuidgid nobody /command/multilog t ./main'],
    },
  ],
}

export default execsnoop
