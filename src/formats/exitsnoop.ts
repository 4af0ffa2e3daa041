// https://github.com/iovisor/bcc/blob/master/tools/exitsnoop_example.txt
import { commonMessage } from './messages.js'
import type { Layout, LineResult, LogFormat, RecordTime } from './types.js'

/**
 * exitsnoop: one row per process exit (per thread with libbpf -T / Python
 * --per-thread). libbpf's `-t` header says TIME(s) but prints a local
 * HH:MM:SS; Python's TIME-<ZONE> prints HH:MM:SS.mmm (UTC with --utc).
 * Signal deaths read `signal 9 (Killed)` (libbpf, strsignal) or
 * `signal 9 (KILL)` (Python).
 */
export interface ExitsnoopLayout extends Layout {
  readonly variant: 'libbpf' | 'python' | 'python-old'
  /** none | clock (libbpf TIME(s): HH:MM:SS) | millis (Python TIME-ZONE) */
  readonly time: 'none' | 'clock' | 'millis'
  readonly utc: boolean
  readonly label: boolean
}

const regexCache = new Map<string, RegExp>()

function rowRegex(l: ExitsnoopLayout): RegExp {
  const key = `${l.time}${String(l.label)}`
  let re = regexCache.get(key)
  if (!re) {
    let src = '^'
    if (l.time === 'clock') src += ' *(\\d{2}):(\\d{2}):(\\d{2}) '
    if (l.time === 'millis') src += '(\\d{2}):(\\d{2}):(\\d{2})\\.(\\d{3}) *'
    if (l.label) src += '(.{6}|\\S+ ?)'
    src += '(.{16}) (\\d+) +(\\d+) +(\\d+) +(\\d+\\.\\d{2}) +(.*?)\\s*$'
    re = new RegExp(src)
    regexCache.set(key, re)
  }
  return re
}

const EXIT_CODE = /^(?:0|code (\d+)|signal (\d+) \((.*?)\)(, core dumped)?)$/

function detect(line: string): ExitsnoopLayout | undefined {
  if (!line.includes('EXIT_CODE')) return undefined
  const tokens = line.trim().split(/\s+/)
  if (tokens.slice(-6).join(' ') !== 'PCOMM PID PPID TID AGE(s) EXIT_CODE') return undefined
  const head = tokens.slice(0, -6)
  let time: ExitsnoopLayout['time'] = 'none'
  let utc = false
  let label = false
  let python = line.endsWith('EXIT_CODE ')
  for (const t of head) {
    if (t === 'TIME(s)') time = 'clock'
    else if (t.startsWith('TIME-')) {
      time = 'millis'
      utc = t === 'TIME-UTC'
      python = true
    } else if (t === 'LABEL') {
      label = true
      python = true
    } else return undefined
  }
  const variant: ExitsnoopLayout['variant'] = /PID {4}PPID/.test(line) ? 'python-old' : python ? 'python' : 'libbpf'
  const flags: string[] = []
  if (time === 'clock') flags.push('-t')
  if (time === 'millis') flags.push(utc ? '--utc' : '-t')
  if (label) flags.push('--label')
  return { variant, flags, time, utc, label }
}

function classify(line: string, layout: ExitsnoopLayout, ctx: { partial: boolean }): LineResult {
  const m = rowRegex(layout).exec(line)
  if (!m) {
    const message = commonMessage(line)
    if (message !== undefined) return { kind: 'message', message }
    return {
      kind: 'bad',
      reason: ctx.partial ? 'incomplete exitsnoop row' : 'not an exitsnoop row: expected PCOMM, PID, PPID, TID, AGE(s) and EXIT_CODE',
    }
  }
  let g = 1
  let time: RecordTime | undefined
  let timeText: string | undefined
  if (layout.time !== 'none') {
    const hour = Number(m[g++])
    const minute = Number(m[g++])
    const second = Number(m[g++])
    if (layout.time === 'millis') {
      const millis = Number(m[g++])
      time = { kind: 'clock', hour, minute, second, millis, utc: layout.utc }
      timeText = line.slice(0, 12)
    } else {
      time = { kind: 'clock', hour, minute, second, utc: false }
      timeText = line.trimStart().slice(0, 8)
    }
  }
  const label = layout.label ? (m[g++] ?? '').trim() : null
  const comm = (m[g++] ?? '').trimEnd()
  const pid = Number(m[g++])
  const ppid = Number(m[g++])
  const tid = Number(m[g++])
  const age = Number(m[g++])
  const exitText = m[g] ?? ''
  const e = EXIT_CODE.exec(exitText)
  if (!e) return { kind: 'bad', reason: `unknown EXIT_CODE "${exitText}": expected 0, code N or signal N (NAME)` }
  const signal = e[2] === undefined ? null : Number(e[2])
  return {
    kind: 'record',
    values: {
      label,
      comm,
      pid,
      ppid: ppid === 0 ? null : ppid,
      tid,
      age_s: age,
      exit_code: signal === null ? Number(e[1] ?? 0) : null,
      signal,
      signal_name: e[3] ?? null,
      core_dumped: e[4] ? 1 : 0,
      exit_text: exitText,
    },
    ...(time ? { time } : {}),
    ...(timeText !== undefined ? { timeText } : {}),
  }
}

const exitsnoop: LogFormat<ExitsnoopLayout> = {
  name: 'exitsnoop',
  title: 'exitsnoop',
  description: 'One row per process exit (per thread with -T/--per-thread): its PID, parent, age and exit code or signal.',
  url: 'https://github.com/iovisor/bcc/blob/master/tools/exitsnoop_example.txt',
  columns: [
    { name: 'label', kind: 'text', description: 'the --label text (Python)' },
    { name: 'comm', kind: 'text', description: 'task name of the exiting task' },
    { name: 'pid', kind: 'integer', description: 'process ID (tgid)' },
    { name: 'ppid', kind: 'integer', description: 'parent process ID at exit time (after any reparenting to 1 or a subreaper)' },
    { name: 'tid', kind: 'integer', description: 'thread ID (equals pid unless per-thread mode)' },
    { name: 'age_s', kind: 'real', unit: 's', description: 'time from the task\'s start to its exit (2 decimals)' },
    { name: 'exit_code', kind: 'integer', description: 'exit status; NULL when killed by a signal' },
    { name: 'signal', kind: 'integer', description: 'number of the signal that killed the task' },
    { name: 'signal_name', kind: 'text', description: 'the signal as printed: strsignal text (libbpf, `Killed`) or short name (Python, `KILL`)' },
    { name: 'core_dumped', kind: 'integer', description: '1 when the task dumped core' },
    { name: 'exit_text', kind: 'text', description: 'the EXIT_CODE column as printed' },
  ],
  detect,
  classify,
  samples: [
    {
      header: 'TIME(s)  PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE',
      lines: ['05:21:02 sleep            2127    2092    2127    1.00    signal 9 (Killed)'],
    },
    {
      header: 'PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE',
      lines: ['bash             2111    2092    2111    0.00    code 3'],
    },
  ],
}

export default exitsnoop
