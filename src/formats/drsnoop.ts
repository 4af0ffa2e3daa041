// https://github.com/iovisor/bcc/blob/master/tools/drsnoop_example.txt
import { commonMessage } from './messages.js'
import type { Layout, LineResult, LogFormat, RecordTime } from './types.js'
import { clean, widen } from './widths.js'

/**
 * drsnoop: one row per completed direct-reclaim episode of one thread.
 *
 * - libbpf-tools: banner `Tracing direct reclaim events...` (or `... for N
 *   secs.`), then `TIME COMM TID LAT(ms) PAGES [FREE(KB)]`; TIME is a local
 *   HH:MM:SS, COMM 16 wide, the id is always a thread id, LAT has 3 decimals
 *   (2 in old versions), `-e` appends ` %8llu` FREE(KB).
 * - Python bcc: no banner; `[TIME(s)][UID]COMM PID|TID LAT(ms) PAGES
 *   [FREE(KB)]`; TIME(s) `%-14.9f` (seconds since the first event) and UID
 *   `%-6d` have no separator after them, COMM is `%-14.14s`, LAT 2 decimals,
 *   `-v` appends `%10d` FREE(KB) without a separator. Old versions printed a
 *   13-wide COMM under the same header: rows are re-tried with a free COMM.
 */
export interface DrsnoopLayout extends Layout {
  readonly variant: 'libbpf' | 'python'
  /** Python `-T`: relative TIME(s) column. */
  readonly relative: boolean
  /** Python `-U`: UID column. */
  readonly uid: boolean
  /** The id column is a thread id (always for libbpf, Python `-t`). */
  readonly tid: boolean
  /** FREE(KB) column (libbpf `-e`, Python `-v`). */
  readonly free: boolean
}

/**
 * `%-6d` without a separator: exactly 6 characters unless the number is
 * longer. A 6-digit UID touches the next field, so 6 digits are tried first
 * and a longer UID is taken as short as the rest of the row allows.
 */
const UID6 = '(\\d{6}|\\d{5} |\\d{4} {2}|\\d{3} {3}|\\d{2} {4}|\\d {5}|\\d{7,}?)'

const regexCache = new Map<string, RegExp>()

function rowRegex(l: DrsnoopLayout, looseComm: boolean): RegExp {
  const key = `${l.variant}${String(l.relative)}${String(l.uid)}${String(l.free)}${String(looseComm)}`
  let re = regexCache.get(key)
  if (!re) {
    let src = '^'
    if (l.variant === 'libbpf') {
      src += '(\\d{2}):(\\d{2}):(\\d{2}) (.{16}) (\\d+) +(\\d+\\.\\d+) +(\\d+)'
      if (l.free) src += ' +(\\d+)'
    } else {
      if (l.relative) src += '(\\d+\\.\\d{9}) *'
      if (l.uid) src += UID6
      src += looseComm ? '(\\S.{0,13}?) +' : '(.{14}) '
      src += '(\\d+) +(\\d+\\.\\d+) +(\\d+)'
      // `%5d%10d`: FREE is right-aligned in at least 10 characters
      if (l.free) src += '(?=[ \\d]{10,} *$) *(\\d+)'
    }
    src += ' *$'
    re = new RegExp(src)
    regexCache.set(key, re)
  }
  return re
}

function detect(line: string): DrsnoopLayout | 'banner' | undefined {
  if (line.startsWith('Tracing direct reclaim events')) return 'banner'
  if (!line.includes('PAGES')) return undefined
  const tokens = line.trim().split(/\s+/)
  let i = 0
  if (tokens[0] === 'TIME') {
    if (tokens[1] !== 'COMM' || tokens[2] !== 'TID' || tokens[3] !== 'LAT(ms)' || tokens[4] !== 'PAGES') return undefined
    const free = tokens[5] === 'FREE(KB)'
    if (tokens.length !== (free ? 6 : 5)) return undefined
    return { variant: 'libbpf', flags: free ? ['-e'] : [], relative: false, uid: false, tid: true, free }
  }
  const relative = tokens[i] === 'TIME(s)' ? (i++, true) : false
  const uid = tokens[i] === 'UID' ? (i++, true) : false
  if (tokens[i++] !== 'COMM') return undefined
  const id = tokens[i++]
  if (id !== 'PID' && id !== 'TID') return undefined
  if (tokens[i++] !== 'LAT(ms)' || tokens[i++] !== 'PAGES') return undefined
  const free = tokens[i] === 'FREE(KB)' ? (i++, true) : false
  if (tokens.length !== i) return undefined
  const tid = id === 'TID'
  const flags = [relative && '-T', uid && '-U', tid && '-t', free && '-v'].filter((f): f is string => typeof f === 'string')
  return { variant: 'python', flags, relative, uid, tid, free }
}

function classify(line: string, layout: DrsnoopLayout, ctx: { partial: boolean }): LineResult {
  const text = widen(line)
  const m = rowRegex(layout, false).exec(text) ?? (layout.variant === 'python' ? rowRegex(layout, true).exec(text) : null)
  if (!m) {
    const message = commonMessage(line)
    if (message !== undefined) return { kind: 'message', message }
    // Python drsnoop without vm_stat symbols: `ERROR: ...` then `HINT: ...`
    if (line.startsWith('HINT: ')) return { kind: 'message', message: line.trim() }
    return {
      kind: 'bad',
      reason: ctx.partial
        ? 'incomplete drsnoop row'
        : layout.variant === 'libbpf'
          ? 'not a drsnoop row: expected TIME (HH:MM:SS), COMM (16 wide), TID, LAT(ms), PAGES' + (layout.free ? ' and FREE(KB)' : '')
          : 'not a drsnoop row: expected ' +
            [layout.relative && 'TIME(s)', layout.uid && 'UID', 'COMM (14 wide)', layout.tid ? 'TID' : 'PID', 'LAT(ms)', 'PAGES', layout.free && 'FREE(KB)']
              .filter(Boolean)
              .join(', '),
    }
  }
  let g = 1
  let time: RecordTime | undefined
  let timeText: string | undefined
  if (layout.variant === 'libbpf') {
    time = { kind: 'clock', hour: Number(m[1]), minute: Number(m[2]), second: Number(m[3]), utc: false }
    timeText = line.slice(0, 8)
    g = 4
  } else if (layout.relative) {
    timeText = m[g++] ?? ''
    time = { kind: 'relative', seconds: Number(timeText), since: 'first_event', decimals: 9 }
  }
  const uid = layout.uid ? Number((m[g++] ?? '').trimEnd()) : null
  const comm = clean(m[g++]).trimEnd()
  const id = Number(m[g++])
  const lat = Number(m[g++])
  const pages = Number(m[g++])
  const free = layout.free ? Number(m[g]) : null
  return {
    kind: 'record',
    values: {
      comm,
      pid: layout.tid ? null : id,
      tid: layout.tid ? id : null,
      uid,
      lat_ms: lat,
      pages,
      free_kb: free,
    },
    ...(time ? { time } : {}),
    ...(timeText !== undefined ? { timeText } : {}),
  }
}

const drsnoop: LogFormat<DrsnoopLayout> = {
  name: 'drsnoop',
  title: 'drsnoop',
  description:
    'One row per completed direct reclaim: a thread that had to free memory itself before its allocation could proceed, how long it stalled and how many pages it reclaimed.',
  url: 'https://github.com/iovisor/bcc/blob/master/tools/drsnoop_example.txt',
  columns: [
    { name: 'comm', kind: 'text', description: 'task name of the reclaiming thread (Python: cut to 14 characters)' },
    { name: 'pid', kind: 'integer', description: 'process ID (tgid), Python without -t; NULL when the tool printed a thread ID' },
    { name: 'tid', kind: 'integer', description: 'thread ID of the reclaiming thread (libbpf always, Python -t)' },
    { name: 'uid', kind: 'integer', description: 'user ID (Python -U)' },
    { name: 'lat_ms', kind: 'real', unit: 'ms', description: 'duration of the direct reclaim (libbpf 3 decimals, Python 2)' },
    { name: 'pages', kind: 'integer', unit: 'pages', description: 'number of pages reclaimed' },
    { name: 'free_kb', kind: 'integer', unit: 'KiB', description: 'free memory when the reclaim started (libbpf -e, Python -v)' },
  ],
  detect,
  classify,
  samples: [
    {
      header: 'TIME     COMM             TID     LAT(ms) PAGES',
      lines: [
        '14:56:43 in:imklog        268     106.637    39',
        '14:56:43 systemd-journal  19531   106.083    62',
      ],
    },
    {
      header: 'TIME(s)       COMM           PID     LAT(ms) PAGES',
      lines: ['107.364115000 summond        17491      0.24    50'],
    },
    {
      header: 'UID   COMM           PID     LAT(ms) PAGES',
      lines: ['1000  summond        17678      0.32    46', '0     base64         17816      0.16    85'],
    },
    {
      header: 'COMM           PID     LAT(ms) PAGES  FREE(KB)',
      lines: ['base64         34924      0.23   151     86260'],
    },
    {
      header: 'COMM           PID     LAT(ms) PAGES',
      lines: ['summond       10269     319.41    37'],
    },
  ],
}

export default drsnoop
