// https://github.com/iovisor/bcc/blob/master/tools/exitsnoop_example.txt
import { commonMessage } from './messages.js'
import type { Layout, LineResult, LogFormat, RecordTime } from './types.js'

/**
 * Header-derived layout of an exitsnoop log.
 *
 * Variants: `libbpf` (PID/PPID/TID 7 wide, no trailing space after
 * `EXIT_CODE`, `-t` prints a `TIME(s)` header over `HH:MM:SS` values),
 * `python` (>= 0.25: trailing space after `EXIT_CODE`, `TIME-<zone>`
 * `HH:MM:SS.mmm`, `LABEL`), `python-old` (<= 0.24: 6-wide PID columns).
 * The default libbpf and Python >= 0.25 headers differ only by that trailing
 * space; a header without it is taken as libbpf.
 */
export interface ExitsnoopLayout extends Layout {
  readonly variant: 'libbpf' | 'python' | 'python-old'
  /**
   * Time-of-day column before PCOMM: `clock` (libbpf `-t`: header `TIME(s)`,
   * values `HH:MM:SS`), `millis` (Python `-t`/`--utc`: `HH:MM:SS.mmm`), or none.
   */
  readonly time: 'none' | 'clock' | 'millis'
  /** The time column is UTC (Python header `TIME-UTC`). */
  readonly utc: boolean
  /** Zone abbreviation from a Python `TIME-<zone>` header (absent in older stored layouts). */
  readonly zone?: string | null
  /** Python `--label`: a LABEL column (`%-6s`, no separator) before PCOMM. */
  readonly label: boolean
}

const HEADER_RE =
  /^(?:(?:(?<tlib>TIME\(s\))|TIME-(?<zone>\S+)) +)?(?<label>LABEL +)?PCOMM +PID(?<gap> +)PPID +TID +AGE\(s\) +EXIT_CODE(?<trail>\s*)$/

/** EXIT_CODE grammar of both variants (Python adds a trailing space after `core dumped`). */
const EXIT_RE = /^(?:(?<zero>0)|code (?<code>\d+)|signal (?<sig>\d+) \((?<name>.*)\)(?<core>, core dumped)?) *$/s

function rowSource(l: ExitsnoopLayout, fixedComm: boolean): string {
  let s = '^'
  // libbpf `%8s ` HH:MM:SS; Python `%-13s` HH:MM:SS.mmm: one space either way
  if (l.time !== 'none') s += '(?<h>\\d\\d):(?<mi>\\d\\d):(?<se>\\d\\d)(?:\\.(?<ms>\\d{3}))? '
  // `%-6s` label: at least 6 chars, no separator when longer; PCOMM is then
  // found by the fixed-width field and the numeric columns after it
  if (l.label) s += '(?<label>.{6,}?)'
  s += fixedComm ? '(?<comm>.{16}) ' : '(?<comm>.{0,16}?) +'
  s += '(?<pid>\\d+) +(?<ppid>\\d+) +(?<tid>\\d+) +(?<age>-?\\d+\\.\\d{2}) +(?<exit>.*)$'
  return s
}

const ROW_CACHE = new Map<string, { fixed: RegExp; loose: RegExp }>()
/** The regexes of a layout object, found without building its key (this runs for every row). */
const ROWS_OF_LAYOUT = new WeakMap<ExitsnoopLayout, { fixed: RegExp; loose: RegExp }>()

function rowRegexes(l: ExitsnoopLayout): { fixed: RegExp; loose: RegExp } {
  const known = ROWS_OF_LAYOUT.get(l)
  if (known) return known
  const key = `${l.time}${l.label ? 'L' : '-'}`
  let re = ROW_CACHE.get(key)
  if (!re) {
    re = { fixed: new RegExp(rowSource(l, true), 's'), loose: new RegExp(rowSource(l, false), 's') }
    ROW_CACHE.set(key, re)
  }
  ROWS_OF_LAYOUT.set(l, re)
  return re
}

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/

function classify(line: string, layout: ExitsnoopLayout, _ctx: { previous: LineResult['kind'] | undefined; partial: boolean }): LineResult {
  const res = rowRegexes(layout)
  let m = res.fixed.exec(line)
  if (!m && NON_ASCII.test(line)) m = res.loose.exec(line)
  const g = m?.groups
  if (!g) {
    const message = commonMessage(line)
    if (message !== undefined) return { kind: 'message', message }
    return { kind: 'bad', reason: 'not an exitsnoop row: expected PCOMM, PID, PPID, TID, AGE(s) and EXIT_CODE' }
  }
  const exitText = (g.exit ?? '').trim()
  const e = EXIT_RE.exec(g.exit ?? '')?.groups
  if (!e) return { kind: 'bad', reason: `unrecognised EXIT_CODE: ${exitText}` }
  let time: RecordTime | undefined
  let timeText: string | undefined
  if (g.h !== undefined) {
    const hour = Number(g.h)
    const minute = Number(g.mi)
    const second = Number(g.se)
    if (hour > 23 || minute > 59 || second > 60) return { kind: 'bad', reason: `invalid time ${g.h}:${g.mi}:${g.se}` }
    timeText = `${g.h}:${g.mi}:${g.se}`
    if (g.ms !== undefined) {
      time = { kind: 'clock', hour, minute, second, millis: Number(g.ms), utc: layout.utc }
      timeText += `.${g.ms}`
    } else {
      time = { kind: 'clock', hour, minute, second, utc: layout.utc }
    }
  }
  const signal = e.sig === undefined ? null : Number(e.sig)
  return {
    kind: 'record',
    values: {
      label: g.label === undefined ? null : g.label.trimEnd(),
      comm: (g.comm ?? '').trimEnd(),
      pid: Number(g.pid),
      ppid: Number(g.ppid),
      tid: Number(g.tid),
      age_s: Number(g.age),
      exit_code: e.zero !== undefined ? 0 : e.code !== undefined ? Number(e.code) : null,
      signal,
      signal_name: e.name ?? null,
      core_dumped: e.core !== undefined ? 1 : 0,
      exit_text: exitText,
    },
    ...(time ? { time } : {}),
    ...(timeText !== undefined ? { timeText } : {}),
  }
}

function detect(line: string): ExitsnoopLayout | undefined {
  if (!line.includes('EXIT_CODE')) return undefined
  const g = HEADER_RE.exec(line)?.groups
  if (!g) return undefined
  const narrow = (g.gap ?? '').length < 5
  const zone = g.zone ?? null
  const label = g.label !== undefined
  let variant: ExitsnoopLayout['variant']
  if (g.tlib !== undefined) {
    if (label || narrow) return undefined
    variant = 'libbpf'
  } else if (narrow) variant = 'python-old'
  else if (zone !== null || label || (g.trail ?? '') !== '') variant = 'python'
  else variant = 'libbpf'
  const flags: string[] = []
  if (g.tlib !== undefined) flags.push('-t')
  if (zone !== null) flags.push(zone === 'UTC' ? '--utc' : '-t')
  if (label) flags.push('--label')
  return {
    variant,
    flags,
    time: g.tlib !== undefined ? 'clock' : zone !== null ? 'millis' : 'none',
    utc: zone === 'UTC',
    zone,
    label,
  }
}

const exitsnoop: LogFormat<ExitsnoopLayout> = {
  name: 'exitsnoop',
  title: 'exitsnoop — one row per process (or thread) exit',
  description:
    'One row per process exit (per thread with -T/--per-thread): its PID, parent, age and exit code or signal.',
  url: 'https://github.com/iovisor/bcc/blob/master/tools/exitsnoop_example.txt',
  columns: [
    { name: 'label', kind: 'text', description: 'LABEL column (Python --label; `exit` for an empty label), else NULL.' },
    { name: 'comm', kind: 'text', description: 'Task name of the exiting task (max 15 chars).' },
    { name: 'pid', kind: 'integer', description: 'Process ID (tgid) of the exiting task.' },
    {
      name: 'ppid',
      kind: 'integer',
      description: 'Parent process ID at exit time (after reparenting: may be 1 or a subreaper).',
    },
    { name: 'tid', kind: 'integer', description: 'Thread ID; equals pid unless per-thread mode (libbpf -T, Python --per-thread).' },
    { name: 'age_s', kind: 'real', unit: 's', description: 'Time from the task start to its exit (2 decimals).' },
    { name: 'exit_code', kind: 'integer', description: 'Exit status 0..255 for a normal exit; NULL when killed by a signal.' },
    { name: 'signal', kind: 'integer', description: 'Number of the signal that killed the task, else NULL.' },
    {
      name: 'signal_name',
      kind: 'text',
      description: 'Signal text as printed: short name in Python (KILL), strsignal() description in libbpf (Killed); else NULL.',
    },
    { name: 'core_dumped', kind: 'integer', description: '1 when the task dumped core (", core dumped"), else 0.' },
    { name: 'exit_text', kind: 'text', description: 'The EXIT_CODE column as printed, trimmed (0, code N, signal N (DESC)[, core dumped]).' },
  ],
  detect,
  classify,
  samples: [
    {
      header: 'PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE',
      lines: [
        'true             13695   13694   13695   0.00    0',
        'sh               13696   13694   13696   0.00    code 3',
        'sh               13698   13694   13698   0.00    signal 9 (Killed)',
        'bash             13700   13694   13700   0.00    signal 11 (Segmentation fault), core dumped',
        'work_exit.sh     13694   13690   13694   1.81    0',
      ],
    },
    {
      header: 'TIME(s)  PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE',
      lines: [
        '03:32:58 python3          14408   14400   14449   0.10    0',
        '03:32:58 python3          14451   14400   14451   0.09    code 255',
      ],
    },
    {
      header: 'PCOMM            PID    PPID   TID    AGE(s)  EXIT_CODE',
      lines: ['bash             19003  17656  19003  1.65    code 65', 'sleep            19014  19013  19014  0.23    signal 2 (INT)'],
    },
    {
      header: 'TIME-UTC     LABEL PCOMM            PID    PPID   TID    AGE(s)  EXIT_CODE',
      lines: [
        '13:20:22.997 exit  bash             18300  17656  18300  1.65    code 65',
        '13:20:31.495 exit  sleep            18318  18317  18318  1.38    signal 2 (INT)',
      ],
    },
  ],
}

export default exitsnoop
