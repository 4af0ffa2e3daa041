// https://github.com/iovisor/bcc/blob/master/tools/opensnoop_example.txt
import { commonMessage } from './messages.js'
import type { Layout, LineResult, LogFormat, RecordTime } from './types.js'
import { clean, widen } from './widths.js'

/**
 * opensnoop: one row per completed open()/openat()/openat2().
 *
 * - libbpf-tools: `%-8s ` TIME (HH:MM:SS, -T), `%-7d ` UID (-U),
 *   `%-6d %-16s %3d %3d ` PID COMM FD ERR, with -e `%08o ` FLAGS (<= 0.33)
 *   or `%08o %04o ` / `%08o n/a  ` FLAGS MODE (>= 0.34), then PATH. Header
 *   `COMM` + 14 spaces + `FD`.
 * - Python bcc: `%-14.9f` TIME(s) (-T, seconds since the first event) and
 *   `%-6d` UID (-U), both **without a separator**, then `%-6d %-16s %4d %3d `
 *   PID|TID COMM FD ERR, the same FLAGS/MODE pieces, PATH. Header `COMM` +
 *   15 spaces + `FD`; `-t` renames PID to TID.
 * - Very old Python (bcc example file): a narrow COMM column (`COMM` + 6
 *   spaces + `FD`), parsed with a free-width COMM.
 *
 * PATH is the rest of the line after ERR and one space: it may contain
 * spaces or be empty. Placeholders: FD -1 (failure), MODE `n/a`.
 */
export interface OpensnoopLayout extends Layout {
  readonly variant: 'libbpf' | 'python' | 'python-old'
  /** libbpf -T: TIME HH:MM:SS. */
  readonly clock: boolean
  /** Python -T: TIME(s) relative seconds. */
  readonly relative: boolean
  /** -U: UID column. */
  readonly uid: boolean
  /** Python -t: the id column is a thread id. */
  readonly tid: boolean
  /** -e: FLAGS column. */
  readonly openFlags: boolean
  /** -e >= 0.34: MODE column. */
  readonly mode: boolean
}

/**
 * `%-6d` without a separator: exactly 6 characters unless the number is
 * longer. A 6-digit UID touches the next field, so 6 digits are tried first
 * and a longer UID is taken as short as the rest of the row allows.
 */
const UID6 = '(\\d{6}|\\d{5} |\\d{4} {2}|\\d{3} {3}|\\d{2} {4}|\\d {5}|\\d{7,}?)'

const regexCache = new Map<string, RegExp>()
/** The regex of a layout object, found without building its key (this runs for every row). */
const regexOfLayout = new WeakMap<OpensnoopLayout, RegExp>()

function rowRegex(l: OpensnoopLayout): RegExp {
  const known = regexOfLayout.get(l)
  if (known) return known
  const key = `${l.variant}${String(l.clock)}${String(l.relative)}${String(l.uid)}${String(l.openFlags)}${String(l.mode)}`
  let re = regexCache.get(key)
  if (!re) {
    let src = '^'
    if (l.clock) src += '(\\d{2}):(\\d{2}):(\\d{2}) +'
    if (l.relative) src += '(\\d+\\.\\d{9}) *'
    if (l.uid) src += l.variant === 'libbpf' ? '(\\d+) +' : UID6
    // after a Python UID the PID may touch it: a PID has no leading zero
    src += l.uid && l.variant !== 'libbpf' ? '([1-9]\\d*) +' : '(\\d+) +'
    src += l.variant === 'python-old' ? '(\\S.*?) +' : '(.{16}) +'
    src += '(-?\\d+) +(-?\\d+)'
    if (l.openFlags) src += ' ([0-7]{8})'
    if (l.mode) src += ' ([0-7]{4}|n/a )'
    src += '(?: (.*))?$'
    re = new RegExp(src)
    regexCache.set(key, re)
  }
  regexOfLayout.set(l, re)
  return re
}

function detect(line: string): OpensnoopLayout | undefined {
  if (!line.includes(' ERR ')) return undefined
  const tokens = line.trim().split(/\s+/)
  let i = 0
  const clock = tokens[i] === 'TIME' ? (i++, true) : false
  const relative = !clock && tokens[i] === 'TIME(s)' ? (i++, true) : false
  const uid = tokens[i] === 'UID' ? (i++, true) : false
  const id = tokens[i++]
  if (id !== 'PID' && id !== 'TID') return undefined
  if (tokens[i++] !== 'COMM' || tokens[i++] !== 'FD' || tokens[i++] !== 'ERR') return undefined
  const openFlags = tokens[i] === 'FLAGS' ? (i++, true) : false
  const mode = openFlags && tokens[i] === 'MODE' ? (i++, true) : false
  if (tokens[i++] !== 'PATH' || tokens.length !== i) return undefined
  const gap = / COMM( +)FD /.exec(` ${line} `)?.[1]?.length ?? 0
  const tid = id === 'TID'
  let variant: OpensnoopLayout['variant']
  if (clock || /UID {5}PID/.test(line) || (gap === 14 && !relative && !tid)) variant = 'libbpf'
  else if (gap === 15) variant = 'python'
  else variant = 'python-old'
  const flags = [(clock || relative) && '-T', uid && '-U', tid && '-t', openFlags && '-e'].filter(
    (f): f is string => typeof f === 'string',
  )
  return { variant, flags, clock, relative, uid, tid, openFlags, mode }
}

function classify(line: string, layout: OpensnoopLayout, ctx: { partial: boolean }): LineResult {
  const wide = widen(line)
  // fields of a line that needed no widening have no fillers to remove
  const field = wide === line ? (s: string | undefined): string => s ?? '' : clean
  const m = rowRegex(layout).exec(wide)
  if (!m) {
    const message = commonMessage(line)
    if (message !== undefined) return { kind: 'message', message }
    if (ctx.partial) return { kind: 'bad', reason: 'incomplete opensnoop row' }
    const cols = [
      layout.clock && 'TIME (HH:MM:SS)',
      layout.relative && 'TIME(s)',
      layout.uid && 'UID',
      layout.tid ? 'TID' : 'PID',
      layout.variant === 'python-old' ? 'COMM' : 'COMM (16 wide)',
      'FD',
      'ERR',
      layout.openFlags && 'FLAGS (8 octal digits)',
      layout.mode && 'MODE (4 octal digits or n/a)',
      'PATH',
    ]
    return { kind: 'bad', reason: `not an opensnoop row: expected ${cols.filter(Boolean).join(', ')}` }
  }
  let g = 1
  let time: RecordTime | undefined
  let timeText: string | undefined
  if (layout.clock) {
    time = { kind: 'clock', hour: Number(m[1]), minute: Number(m[2]), second: Number(m[3]), utc: false }
    timeText = line.slice(0, 8)
    g = 4
  }
  if (layout.relative) {
    timeText = m[g++] ?? ''
    time = { kind: 'relative', seconds: Number(timeText), since: 'first_event', decimals: 9 }
  }
  const uid = layout.uid ? Number((m[g++] ?? '').trimEnd()) : null
  const id = Number(m[g++])
  const comm = field(m[g++]).trimEnd()
  const fd = Number(m[g++])
  const err = Number(m[g++])
  const openFlags = layout.openFlags ? (m[g++] ?? null) : null
  const mode = layout.mode ? (m[g++] ?? 'n/a ').trimEnd() : null
  const path = field(m[g])
  return {
    kind: 'record',
    values: {
      uid,
      pid: layout.tid ? null : id,
      tid: layout.tid ? id : null,
      comm,
      fd: fd < 0 ? null : fd,
      err,
      flags: openFlags,
      mode: mode === 'n/a' ? null : mode,
      path: path === '' ? null : path,
    },
    ...(time ? { time } : {}),
    ...(timeText !== undefined ? { timeText } : {}),
  }
}

const opensnoop: LogFormat<OpensnoopLayout> = {
  name: 'opensnoop',
  title: 'opensnoop',
  description:
    'One row per completed open()/openat() (and openat2) call: who opened which path, with the descriptor returned or the error.',
  url: 'https://github.com/iovisor/bcc/blob/master/tools/opensnoop_example.txt',
  columns: [
    { name: 'uid', kind: 'integer', description: 'user ID of the caller (-U)' },
    { name: 'pid', kind: 'integer', description: 'process ID (tgid); NULL with Python -t, which prints thread IDs' },
    { name: 'tid', kind: 'integer', description: 'thread ID (Python -t)' },
    { name: 'comm', kind: 'text', description: 'task name of the caller' },
    { name: 'fd', kind: 'integer', description: 'the descriptor returned; NULL when the open failed (-1)' },
    { name: 'err', kind: 'integer', description: 'errno of a failed open (2 ENOENT, 13 EACCES, ...), 0 on success' },
    { name: 'flags', kind: 'text', description: 'open flags as printed, 8 octal digits (-e), e.g. 02000000 = O_CLOEXEC' },
    { name: 'mode', kind: 'text', description: 'creation mode as printed, 4 octal digits (-e, >= 0.34); NULL when neither O_CREAT nor O_TMPFILE was given (n/a)' },
    { name: 'path', kind: 'text', description: 'the path as passed by the program (relative paths stay relative), possibly truncated; NULL when empty' },
  ],
  detect,
  classify,
  samples: [
    {
      header: 'PID    COMM              FD ERR PATH',
      lines: [
        '19019  tdb-opener         3   0 /etc/hostname',
        '19019  tdb-opener        -1   2 /tmp/cap/op/does-not-exist',
        '19019  tdb-opener         3   0 dir with space/file name.txt',
      ],
    },
    {
      header: 'TIME     PID    COMM              FD ERR PATH',
      lines: ['03:37:57 19119  tdb-opener        -1   2 /tmp/cap/op/does-not-exist'],
    },
    {
      header: 'TIME     UID     PID    COMM              FD ERR FLAGS    PATH',
      lines: ['03:38:07 0       19293  tdb-opener         3   0 02001101 relative.txt'],
    },
    {
      header: 'TIME(s)       PID    COMM               FD ERR PATH',
      lines: ['0.000289999   1956   supervise           9   0 supervise/status.new'],
    },
    {
      header: 'UID   PID    COMM               FD ERR PATH',
      lines: ['103   628    dbus-daemon        -1   2 /usr/local/share/dbus-1/system-services'],
    },
    {
      header: 'PID    COMM               FD ERR FLAGS    MODE PATH',
      lines: ['12458  open                3   0 02000000 n/a  /etc/ld.so.cache', '12458  open                3   0 00000301 0664 tmp.txt'],
    },
    {
      header: 'PID    COMM               FD ERR PATH',
      lines: ['2679   sed                -1   2'],
    },
    {
      header: 'PID    COMM      FD ERR PATH',
      lines: ['1956   supervise  9   0 supervise/status.new', '18373  multilog  -1  13 lock'],
    },
  ],
}

export default opensnoop
