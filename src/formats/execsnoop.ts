// https://github.com/iovisor/bcc/blob/master/tools/execsnoop_example.txt
import { commonMessage } from './messages.js'
import type { Layout, LineResult, LogFormat, RecordTime } from './types.js'

/**
 * execsnoop: one row per completed execve(). Variants: libbpf-tools (PCOMM,
 * 6-wide PID/PPID, a trailing space after ARGS, raw newlines inside
 * arguments continue on the next line), Python bcc >= 0.31 (COMM, 7-wide,
 * PPID `?` when unknown, optional PCOMM `-M` and CPU `-C` columns), Python
 * 0.25–0.30 and older (PCOMM; the oldest has no PPID). `TIME(s)` and `UID`
 * have no separator after them and merge with the next field at full width.
 */
export interface ExecsnoopLayout extends Layout {
  readonly variant: 'libbpf' | 'python' | 'python-0.25' | 'python-old'
  readonly clock: boolean
  readonly relative: boolean
  readonly uid: boolean
  readonly parentComm: boolean
  readonly ppid: boolean
  readonly cpu: boolean
}

const regexCache = new Map<string, RegExp>()

function rowRegex(l: ExecsnoopLayout): RegExp {
  const key = `${String(l.clock)}${String(l.relative)}${String(l.uid)}${String(l.parentComm)}${String(l.ppid)}${String(l.cpu)}`
  let re = regexCache.get(key)
  if (!re) {
    let src = '^'
    if (l.clock) src += '(\\d{2}):(\\d{2}):(\\d{2}) +'
    if (l.relative) src += '(\\d+\\.\\d{3}) *'
    if (l.uid) src += '(\\d{6,}|\\d{1,5}) *'
    src += '(.{16}) (\\d+) +'
    if (l.parentComm) src += '(.{16}) '
    if (l.ppid) src += '(\\d+|\\?) +'
    if (l.cpu) src += '(\\d+) +'
    src += '(-?\\d+)(?: (.*))?$'
    re = new RegExp(src)
    regexCache.set(key, re)
  }
  return re
}

function detect(line: string): ExecsnoopLayout | undefined {
  if (!line.includes('RET') || !line.trimEnd().endsWith(' RET ARGS')) return undefined
  const tokens = line.trim().split(/\s+/)
  let i = 0
  const clock = tokens[i] === 'TIME' ? (i++, true) : false
  const relative = tokens[i] === 'TIME(s)' ? (i++, true) : false
  const uid = tokens[i] === 'UID' ? (i++, true) : false
  const comm = tokens[i++]
  if (comm !== 'COMM' && comm !== 'PCOMM') return undefined
  if (tokens[i++] !== 'PID') return undefined
  const parentComm = tokens[i] === 'PCOMM' ? (i++, true) : false
  const ppid = tokens[i] === 'PPID' ? (i++, true) : false
  const cpu = tokens[i] === 'CPU' ? (i++, true) : false
  if (tokens[i] !== 'RET' || tokens[i + 1] !== 'ARGS' || tokens.length !== i + 2) return undefined
  let variant: ExecsnoopLayout['variant']
  if (comm === 'COMM') variant = ppid ? 'python' : 'python-old'
  else if (/PID {5}PPID/.test(line)) variant = 'python-0.25'
  else variant = 'libbpf' // also Python <= 0.24, whose header is the same
  const flags = [clock && '-T', relative && '-t', uid && '-U', parentComm && '-M', cpu && '-C'].filter(
    (f): f is string => typeof f === 'string',
  )
  return { variant, flags, clock, relative, uid, parentComm, ppid, cpu }
}

function classify(line: string, layout: ExecsnoopLayout, ctx: { previous: LineResult['kind'] | undefined; partial: boolean }): LineResult {
  const m = rowRegex(layout).exec(line)
  if (!m) {
    const message = commonMessage(line)
    if (message !== undefined) return { kind: 'message', message }
    if (ctx.partial) return { kind: 'bad', reason: 'incomplete execsnoop row' }
    // libbpf prints arguments raw: a newline inside one continues the row
    if (layout.variant === 'libbpf' && (ctx.previous === 'record' || ctx.previous === 'continuation')) {
      return { kind: 'continuation', column: 'args', append: line.endsWith(' ') ? line.slice(0, -1) : line }
    }
    return { kind: 'bad', reason: 'not an execsnoop row: expected COMM, PID, PPID, RET and ARGS columns' }
  }
  let g = 1
  let time: RecordTime | undefined
  let timeText: string | undefined
  let elapsed: number | null = null
  if (layout.clock) {
    const [h, mi, s] = [Number(m[g]), Number(m[g + 1]), Number(m[g + 2])]
    g += 3
    time = { kind: 'clock', hour: h, minute: mi, second: s, utc: false }
    timeText = line.slice(0, 8)
  }
  if (layout.relative) {
    const text = m[g++] ?? ''
    elapsed = Number(text)
    if (!time) {
      time = { kind: 'relative', seconds: elapsed, since: 'tool_start', decimals: 3 }
      timeText = text
    }
  }
  const uid = layout.uid ? Number(m[g++]) : null
  const comm = (m[g++] ?? '').trimEnd()
  const pid = Number(m[g++])
  const pcomm = layout.parentComm ? (m[g++] ?? '').trimEnd() : null
  let ppid: number | null = null
  if (layout.ppid) {
    const p = m[g++]
    // Python prints `?` and libbpf 0 when the parent is unknown
    ppid = p === undefined || p === '?' || p === '0' ? null : Number(p)
  }
  const cpu = layout.cpu ? Number(m[g++]) : null
  const ret = Number(m[g++])
  let args = m[g] ?? ''
  if (layout.variant === 'libbpf' && args.endsWith(' ')) args = args.slice(0, -1)
  const truncated = args.endsWith(' ...') ? 1 : 0
  const space = args.indexOf(' ')
  const filename = space === -1 ? args : args.slice(0, space)
  return {
    kind: 'record',
    values: {
      uid,
      comm,
      pid,
      ppid,
      pcomm,
      cpu,
      ret,
      args,
      filename: filename.replace(/^"(.*)"$/, '$1') || null,
      args_truncated: truncated,
      elapsed_s: elapsed,
    },
    ...(time ? { time } : {}),
    ...(timeText !== undefined ? { timeText } : {}),
  }
}

const execsnoop: LogFormat<ExecsnoopLayout> = {
  name: 'execsnoop',
  title: 'execsnoop',
  description: 'One row per completed execve() (failed ones too with -x): the new program, its PID and parent, and its arguments.',
  url: 'https://github.com/iovisor/bcc/blob/master/tools/execsnoop_example.txt',
  columns: [
    { name: 'uid', kind: 'integer', description: 'real UID of the process calling exec (-U)' },
    { name: 'comm', kind: 'text', description: 'task name after the exec (the caller\'s for a failed exec), at most 15 bytes' },
    { name: 'pid', kind: 'integer', description: 'process ID (tgid)' },
    { name: 'ppid', kind: 'integer', description: 'parent process ID at exec time; NULL when the tool did not know it (Python `?`, libbpf 0)' },
    { name: 'pcomm', kind: 'text', description: 'parent\'s task name (Python -M)' },
    { name: 'cpu', kind: 'integer', description: 'CPU the exec ran on (Python -C)' },
    { name: 'ret', kind: 'integer', description: 'exec return value: 0, or a negative errno for a failed exec (-x)' },
    { name: 'args', kind: 'text', description: 'the path passed to execve and argv[1..], as printed (each argument truncated to 127 bytes); newlines inside arguments kept' },
    { name: 'filename', kind: 'text', description: 'first word of args: the path passed to execve' },
    { name: 'args_truncated', kind: 'integer', description: '1 when more arguments than --max-args were given (the row ends in ` ...`)' },
    { name: 'elapsed_s', kind: 'real', unit: 's', description: 'TIME(s): seconds since the tool started (-t); the record time when no wall-clock TIME (-T) is printed' },
  ],
  detect,
  classify,
  samples: [
    {
      header: 'TIME     UID    PCOMM            PID    PPID   RET ARGS',
      lines: ['05:21:01 0     true             2094   2092     0 /bin/true '],
    },
    {
      header: 'PCOMM            PID    PPID   RET ARGS',
      lines: ['bash             2111   2092     0 /bin/bash -c exit 3 '],
    },
    {
      header: 'COMM             PID     PPID    RET ARGS',
      lines: ['mount            1284    1283      0 /bin/mount -p'],
    },
  ],
}

export default execsnoop
