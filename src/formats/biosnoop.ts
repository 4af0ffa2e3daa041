// https://github.com/iovisor/bcc/blob/master/tools/biosnoop_example.txt
import { commonMessage } from './messages.js'
import type { Layout, LineResult, LogFormat, RecordTime } from './types.js'
import { clean, widen } from './widths.js'

/**
 * biosnoop: one row per completed block I/O request with its latency.
 *
 * - libbpf-tools: `%-11.6f ` TIME(s) (or `%-8s.%03ld ` TIMESTAMP with -t,
 *   >= 0.28), `%-14.14s %-7d %-7s %-4s %-10lld %-7d ` COMM PID DISK T SECTOR
 *   BYTES, `%7.3f ` QUE(ms) with -Q, `%7.3f` LAT(ms). T is an rwbs string
 *   (`R`, `WS`, `FWS`, `RA`...). Placeholders: COMM `?`, PID 0, DISK
 *   `Unknown`, QUE `-1.000`.
 * - Python bcc: `%-11.6f %-14.14s %-7s %-9s %-1s %-10s %-7s` with **no
 *   separator after BYTES**, then `%-1s ` P (-P), `%7.2f ` QUE (-Q), `%7.2f`
 *   LAT. T is `R` or `W`. DISK `<unknown>`. Python <= 0.24 used PID 6 and
 *   DISK 7 and a space after BYTES in the default layout.
 *
 * BYTES (Python) is parsed as a 7-character field; a following QUE/LAT value
 * only touches it when the value fills its 7 characters (>= 1000 ms).
 */
export interface BiosnoopLayout extends Layout {
  readonly variant: 'libbpf' | 'python' | 'python-0.24'
  /** libbpf -t: TIMESTAMP HH:MM:SS.mmm instead of relative TIME(s). */
  readonly timestamp: boolean
  /** -Q: QUE(ms) column. */
  readonly queue: boolean
  /** Python -P: pattern column (S sequential, R random, ? unknown). */
  readonly pattern: boolean
}

/** Python `%-7s` BYTES without a separator: exactly 7 characters unless the number is longer. */
const BYTES7 = '(\\d{7,}|\\d{6} |\\d{5} {2}|\\d{4} {3}|\\d{3} {4}|\\d{2} {5}|\\d {6})'
/** Python `%7.2f` right after BYTES: padded with spaces, or a number of at least 7 characters. */
const RIGHT7 = '( +-?\\d+\\.\\d+|-?\\d{4,}\\.\\d+)'

const regexCache = new Map<string, RegExp>()

function rowRegex(l: BiosnoopLayout): RegExp {
  const key = `${l.variant === 'libbpf' ? 'l' : 'p'}${String(l.timestamp)}${String(l.queue)}${String(l.pattern)}`
  let re = regexCache.get(key)
  if (!re) {
    let src = '^'
    src += l.timestamp ? '(\\d{2}):(\\d{2}):(\\d{2})\\.(\\d{3}) +' : '(\\d+\\.\\d{6}) +'
    src += '(.{14}) (\\d+) +(\\S+) +([A-Z]+) +(-?\\d+) +'
    if (l.variant === 'libbpf') {
      src += '(\\d+) +'
      if (l.queue) src += '(-?\\d+\\.\\d+) +'
      src += '(-?\\d+\\.\\d+)'
    } else {
      src += BYTES7
      if (l.pattern) {
        src += '([SR?]) '
        if (l.queue) src += ' *(-?\\d+\\.\\d+) +'
        src += ' *(-?\\d+\\.\\d+)'
      } else if (l.queue) {
        src += `${RIGHT7} +(-?\\d+\\.\\d+)`
      } else {
        src += RIGHT7
      }
    }
    src += ' *$'
    re = new RegExp(src)
    regexCache.set(key, re)
  }
  return re
}

function detect(line: string): BiosnoopLayout | undefined {
  if (!line.includes('SECTOR')) return undefined
  const tokens = line.trim().split(/\s+/)
  const first = tokens[0]
  if (first !== 'TIME(s)' && first !== 'TIMESTAMP') return undefined
  if (tokens.slice(1, 7).join(' ') !== 'COMM PID DISK T SECTOR BYTES') return undefined
  let i = 7
  const pattern = tokens[i] === 'P' ? (i++, true) : false
  const queue = tokens[i] === 'QUE(ms)' ? (i++, true) : false
  if (tokens[i++] !== 'LAT(ms)' || tokens.length !== i) return undefined
  const timestamp = first === 'TIMESTAMP'
  const libbpf = timestamp || /\bT {4}SECTOR/.test(line)
  if (libbpf && pattern) return undefined
  const variant: BiosnoopLayout['variant'] = libbpf ? 'libbpf' : /PID {4}DISK/.test(line) ? 'python-0.24' : 'python'
  const flags = libbpf
    ? [queue && '-Q', timestamp && '-t']
    : [queue && '-Q', pattern && '-P']
  return { variant, flags: flags.filter((f): f is string => typeof f === 'string'), timestamp, queue, pattern }
}

function classify(line: string, layout: BiosnoopLayout, ctx: { partial: boolean }): LineResult {
  const m = rowRegex(layout).exec(widen(line))
  if (!m) {
    const message = commonMessage(line)
    if (message !== undefined) return { kind: 'message', message }
    if (ctx.partial) return { kind: 'bad', reason: 'incomplete biosnoop row' }
    const cols = [
      layout.timestamp ? 'TIMESTAMP (HH:MM:SS.mmm)' : 'TIME(s)',
      'COMM (14 wide)',
      'PID',
      'DISK',
      layout.variant === 'libbpf' ? 'T (rwbs)' : 'T (R/W)',
      'SECTOR',
      'BYTES',
      layout.pattern && 'P (S/R/?)',
      layout.queue && 'QUE(ms)',
      'LAT(ms)',
    ]
    return { kind: 'bad', reason: `not a biosnoop row: expected ${cols.filter(Boolean).join(', ')}` }
  }
  let g = 1
  let time: RecordTime
  let timeText: string
  if (layout.timestamp) {
    time = { kind: 'clock', hour: Number(m[1]), minute: Number(m[2]), second: Number(m[3]), millis: Number(m[4]), utc: false }
    timeText = line.slice(0, 12)
    g = 5
  } else {
    timeText = m[g++] ?? ''
    time = { kind: 'relative', seconds: Number(timeText), since: 'first_event', decimals: 6 }
  }
  const comm = clean(m[g++]).trimEnd()
  const pid = Number(m[g++])
  const disk = clean(m[g++])
  const rwbs = m[g++] ?? ''
  const sector = Number(m[g++])
  const bytes = Number((m[g++] ?? '').trimEnd())
  const pattern = layout.pattern ? (m[g++] ?? '?') : '?'
  let que: number | null = layout.queue ? Number((m[g++] ?? '').trim()) : null
  // libbpf prints -1.000 when the insert into the scheduler was not seen
  if (que === -1 && layout.variant === 'libbpf') que = null
  const lat = Number((m[g] ?? '').trim())
  return {
    kind: 'record',
    values: {
      comm: comm === '?' || comm === '' ? null : comm,
      pid: pid === 0 ? null : pid,
      disk: disk === '<unknown>' || disk === 'Unknown' ? null : disk,
      rwbs,
      sector,
      bytes,
      pattern: pattern === '?' ? null : pattern,
      que_ms: que,
      lat_ms: lat,
    },
    time,
    timeText,
  }
}

const biosnoop: LogFormat<BiosnoopLayout> = {
  name: 'biosnoop',
  title: 'biosnoop',
  description:
    'One row per completed block-device I/O request: the task that issued it, the disk, operation, sector, size and latency (and queue time with -Q).',
  url: 'https://github.com/iovisor/bcc/blob/master/tools/biosnoop_example.txt',
  columns: [
    { name: 'comm', kind: 'text', description: 'task name on-CPU when the request was created (cut to 14 characters); NULL when unknown (`?`)' },
    { name: 'pid', kind: 'integer', description: 'process ID (tgid) of that task; NULL when unknown (0)' },
    { name: 'disk', kind: 'text', description: 'disk or partition name (vda, nvme0n1, sda1); NULL when not found (`<unknown>`, `Unknown`)' },
    { name: 'rwbs', kind: 'text', description: 'operation: Python R or W (anything not a write is R); libbpf rwbs letters, e.g. R, W, WS, FWS, RA, D, F, N' },
    { name: 'sector', kind: 'integer', unit: '512-byte sectors', description: 'starting sector of the request' },
    { name: 'bytes', kind: 'integer', unit: 'bytes', description: 'request size' },
    { name: 'pattern', kind: 'text', description: 'Python -P access pattern: S sequential, R random; NULL when unknown (`?`, first I/O on the disk)' },
    { name: 'que_ms', kind: 'real', unit: 'ms', description: 'time queued in the OS before issue to the device (-Q); NULL when libbpf did not see the insert (-1.000)' },
    { name: 'lat_ms', kind: 'real', unit: 'ms', description: 'latency from issue to the device until completion' },
  ],
  detect,
  classify,
  samples: [
    {
      header: 'TIME(s)     COMM           PID    DISK    T SECTOR     BYTES   LAT(ms)',
      lines: [
        '0.000004    supervise      1950   xvda1   W 13092560   4096       0.74',
        '2.003931    xfsaild/md0    456    xvdb    W 62901513   512        0.25',
        '2.004204    kworker/0:3    26040  xvdb    W 41950344   65536      0.34',
      ],
    },
    {
      header: 'TIME(s)     COMM           PID    DISK    T SECTOR     BYTES  QUE(ms) LAT(ms)',
      lines: [
        '0.000000    kworker/u72:1  13379  nvme1n1 W 1142400    4096      0.01    0.55',
        '5.332998    xfsaild/nvme1n 1061   nvme1n1 W 545728     16384     0.01    0.61',
      ],
    },
  ],
}

export default biosnoop
