// https://github.com/iovisor/bcc/blob/master/tools/tcpstates_example.txt
import { commonMessage } from './messages.js'
import type { Layout, LineResult, LogFormat } from './types.js'
import { addr, ipVersion, port, readTimes } from './tcp-fields.js'

/**
 * tcpstates: one row per TCP state transition of one socket, with the time
 * the socket spent in the state it leaves.
 *
 * - libbpf-tools: `[%8s ]%-16llx %-7d %-10.10s %-15s %-5d %-15s %-5d %-11s ->
 *   %-11s %.3f`; `-T` prints the header `TIME(s)` but values HH:MM:SS; `-w`
 *   adds `%-2d` IP and widens COMM to 16 and the addresses to 26 (0.26-0.28)
 *   or 39.
 * - Python bcc: header `C-PID C-COMM` (PID 5 wide); `-T` TIME HH:MM:SS, `-t`
 *   TIME(s) `%-9.6f` seconds since the first event, `-w` IP column, `-s` CSV
 *   (`%x,%d,%s,...`, no `->`, COMM not truncated and may contain commas).
 *
 * Rows are tokenised on whitespace from both ends: every field after COMM is
 * free of spaces, so COMM (which may contain spaces) is whatever lies between
 * PID and the fixed number of trailing fields.
 */
export interface TcpstatesLayout extends Layout {
  readonly variant: 'libbpf' | 'python'
  /** A wall-clock column (libbpf `TIME(s)`, Python `TIME`). */
  readonly clock: boolean
  /** Python `-t` `TIME(s)`: seconds since the first event. */
  readonly relative: boolean
  /** IP column printed (`-w`, CSV). */
  readonly ip: boolean
  /** Python `-s`: comma-separated. */
  readonly csv: boolean
}

const TIME_TOKEN = '(\\d{1,2}:\\d{2}:\\d{2}|\\d+\\.\\d+)'
const HEX = /^[0-9a-f]+$/i
const INT = /^\d+$/
const MS = /^\d+\.\d{3}$/
const STATE_NAMES = new Set([
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
])

const regexCache = new Map<string, RegExp>()

function rowRegex(l: TcpstatesLayout): RegExp {
  const times = Number(l.clock) + Number(l.relative)
  const key = `${times}${String(l.ip)}`
  let re = regexCache.get(key)
  if (!re) {
    let src = '^'
    for (let i = 0; i < times; i++) src += `${TIME_TOKEN} +`
    src += '([0-9a-fA-F]+) +(\\d+) +(.*?) +'
    if (l.ip) src += '(\\S+) +'
    src += '(\\S+) +(\\d+) +(\\S+) +(\\d+) +(\\S+) +-> +(\\S+) +(\\d+\\.\\d{3}) *$'
    re = new RegExp(src)
    regexCache.set(key, re)
  }
  return re
}

function detect(line: string): TcpstatesLayout | undefined {
  if (!line.includes('SKADDR')) return undefined
  const csv = line.includes(',')
  const tokens = csv ? line.trim().split(',') : line.trim().split(/\s+/)
  let i = 0
  const times: string[] = []
  while (tokens[i] === 'TIME' || tokens[i] === 'TIME(s)') times.push(tokens[i++] ?? '')
  if (tokens[i++] !== 'SKADDR') return undefined
  const pid = tokens[i++]
  const comm = tokens[i++]
  let variant: TcpstatesLayout['variant']
  if (pid === 'C-PID' && comm === 'C-COMM') variant = 'python'
  else if (pid === 'PID' && comm === 'COMM' && !csv) variant = 'libbpf'
  else return undefined
  const ip = tokens[i] === 'IP' ? (i++, true) : false
  const rest = csv
    ? ['LADDR', 'LPORT', 'RADDR', 'RPORT', 'OLDSTATE', 'NEWSTATE', 'MS']
    : ['LADDR', 'LPORT', 'RADDR', 'RPORT', 'OLDSTATE', '->', 'NEWSTATE', 'MS']
  for (const t of rest) if (tokens[i++] !== t) return undefined
  if (i !== tokens.length) return undefined
  let clock = false
  let relative = false
  if (variant === 'libbpf') {
    // libbpf -T: the header says TIME(s) but the values are HH:MM:SS
    if (times.length > 1 || (times.length === 1 && times[0] !== 'TIME(s)')) return undefined
    clock = times.length === 1
  } else {
    if (times.join(' ') === 'TIME TIME(s)') clock = relative = true
    else if (times.length === 1) {
      clock = times[0] === 'TIME'
      relative = !clock
    } else if (times.length !== 0) return undefined
    if (csv && !ip) return undefined
  }
  const flags =
    variant === 'libbpf'
      ? [clock && '-T', ip && '-w']
      : [clock && '-T', relative && '-t', ip && !csv && '-w', csv && '-s']
  return { variant, flags: flags.filter((f): f is string => typeof f === 'string'), clock, relative, ip, csv }
}

/** State names as printed; `UNKNOWN`, `(null)` and bare numbers (unknown states) → NULL. */
const state = (s: string): string | null => (STATE_NAMES.has(s) ? s : null)



interface Fields {
  skaddr: string
  pid: string
  comm: string
  ip: string | undefined
  laddr: string
  lport: string
  raddr: string
  rport: string
  oldstate: string
  newstate: string
  ms: string
}

function splitCsv(line: string, layout: TcpstatesLayout): { times: string[]; f: Fields } | string {
  const parts = line.split(',')
  const nTimes = Number(layout.clock) + Number(layout.relative)
  const expected = nTimes + 11
  if (parts.length < expected) return `expected ${expected} comma-separated fields, found ${parts.length}`
  const extra = parts.length - expected // commas inside COMM
  const at = (i: number): string => parts[i < nTimes + 2 ? i : i + extra] ?? ''
  const f: Fields = {
    skaddr: at(nTimes),
    pid: at(nTimes + 1),
    comm: parts.slice(nTimes + 2, nTimes + 3 + extra).join(','),
    ip: at(nTimes + 3),
    laddr: at(nTimes + 4),
    lport: at(nTimes + 5),
    raddr: at(nTimes + 6),
    rport: at(nTimes + 7),
    oldstate: at(nTimes + 8),
    newstate: at(nTimes + 9),
    ms: at(nTimes + 10).trimEnd(),
  }
  if (!HEX.test(f.skaddr)) return `SKADDR "${f.skaddr}" is not hexadecimal`
  for (const [name, v] of [
    ['C-PID', f.pid],
    ['LPORT', f.lport],
    ['RPORT', f.rport],
  ] as const)
    if (!INT.test(v)) return `${name} "${v}" is not a number`
  if (!MS.test(f.ms)) return `MS "${f.ms}" is not a number with 3 decimals`
  return { times: parts.slice(0, nTimes), f }
}

function classify(line: string, layout: TcpstatesLayout, ctx: { partial: boolean }): LineResult {
  let times: string[]
  let f: Fields
  if (layout.csv) {
    const r = line.includes(',') ? splitCsv(line, layout) : 'not a comma-separated tcpstates row'
    if (typeof r === 'string') {
      const message = commonMessage(line)
      if (message !== undefined) return { kind: 'message', message }
      return { kind: 'bad', reason: ctx.partial ? `incomplete tcpstates CSV row: ${r}` : `not a tcpstates CSV row: ${r}` }
    }
    times = r.times
    f = r.f
  } else {
    const m = rowRegex(layout).exec(line)
    if (!m) {
      const message = commonMessage(line)
      if (message !== undefined) return { kind: 'message', message }
      return {
        kind: 'bad',
        reason: ctx.partial
          ? 'incomplete tcpstates row'
          : `not a tcpstates row: expected ${[
              layout.clock && 'TIME',
              layout.relative && 'TIME(s)',
              'SKADDR (hex), PID, COMM',
              layout.ip && 'IP',
              'LADDR, LPORT, RADDR, RPORT, OLDSTATE -> NEWSTATE, MS (3 decimals)',
            ]
              .filter(Boolean)
              .join(', ')}`,
      }
    }
    const nTimes = Number(layout.clock) + Number(layout.relative)
    times = m.slice(1, 1 + nTimes).map((t) => t ?? '')
    let g = 1 + nTimes
    const next = (): string => m[g++] ?? ''
    f = {
      skaddr: next(),
      pid: next(),
      comm: next(),
      ip: layout.ip ? next() : undefined,
      laddr: next(),
      lport: next(),
      raddr: next(),
      rport: next(),
      oldstate: next(),
      newstate: next(),
      ms: next(),
    }
  }
  const t = readTimes(times)
  if (typeof t === 'string') return { kind: 'bad', reason: `not a tcpstates row: ${t}` }
  const ip = ipVersion(f.ip, f.laddr)
  if (typeof ip !== 'number') return { kind: 'bad', reason: ip.bad }
  const ms = Number(f.ms)
  return {
    kind: 'record',
    values: {
      skaddr: f.skaddr.toLowerCase(),
      pid: Number(f.pid),
      comm: f.comm,
      ip,
      laddr: addr(f.laddr),
      lport: port(f.lport),
      raddr: addr(f.raddr),
      rport: port(f.rport),
      oldstate: state(f.oldstate),
      newstate: state(f.newstate),
      // 0.000: the first transition the tool saw for this socket, time unknown
      ms: ms === 0 ? null : ms,
      elapsed_s: t.elapsed,
    },
    ...(t.time ? { time: t.time } : {}),
    ...(t.timeText !== undefined ? { timeText: t.timeText } : {}),
  }
}

const tcpstates: LogFormat<TcpstatesLayout> = {
  name: 'tcpstates',
  title: 'tcpstates',
  description:
    'One row per TCP state transition of one socket (SKADDR), with the milliseconds spent in the state it leaves; chains of rows per socket give connections and their handshake and close times.',
  url: 'https://github.com/iovisor/bcc/blob/master/tools/tcpstates_example.txt',
  columns: [
    {
      name: 'skaddr',
      kind: 'text',
      description: 'kernel address of the socket (lower-case hex): its identity while open; reused after a transition to CLOSE',
    },
    {
      name: 'pid',
      kind: 'integer',
      description: 'PID (tgid) on CPU when the transition happened (Python C-PID): may be the peer process on loopback, or 0 in softirq context',
    },
    { name: 'comm', kind: 'text', description: 'task name of that on-CPU task (Python C-COMM; cut to 10 characters unless -w or CSV)' },
    {
      name: 'ip',
      kind: 'integer',
      description: 'IP version 4 or 6: the IP column when printed (-w, CSV), else derived from the address text (v4-mapped ::ffff:a.b.c.d is 6)',
    },
    { name: 'laddr', kind: 'text', description: 'local address as printed; NULL for the unspecified address 0.0.0.0 / ::' },
    { name: 'lport', kind: 'integer', description: 'local port; NULL when printed 0 (CLOSE -> SYN_SENT, port not yet bound)' },
    { name: 'raddr', kind: 'text', description: 'remote address; NULL for 0.0.0.0 / :: (listening sockets)' },
    { name: 'rport', kind: 'integer', description: 'remote port; NULL when printed 0 (listening sockets)' },
    {
      name: 'oldstate',
      kind: 'text',
      description: 'state left (ESTABLISHED, SYN_SENT, ..., NEW_SYN_RECV); NULL for an unknown state (libbpf UNKNOWN or (null), Python a bare number)',
    },
    { name: 'newstate', kind: 'text', description: 'state entered; NULL for an unknown state, as for oldstate' },
    {
      name: 'ms',
      kind: 'real',
      unit: 'ms',
      description:
        'time spent in oldstate (µs resolution); NULL when printed 0.000, which the tool prints for the first transition it sees of a socket (time unknown, not zero)',
    },
    {
      name: 'elapsed_s',
      kind: 'real',
      unit: 's',
      description: 'Python -t TIME(s): seconds since the first event printed; the record time unless a TIME clock column (-T) is printed too',
    },
  ],
  detect,
  classify,
  samples: [
    {
      header:
        'SKADDR           PID     COMM       LADDR           LPORT RADDR           RPORT OLDSTATE    -> NEWSTATE    MS',
      lines: [
        'ffff88813e8b09c0 18120   python3    ::ffff:127.0.0.1 8098  ::              0     CLOSE       -> LISTEN      0.000',
        'ffff888102e1ae40 18184   curl       127.0.0.1       37966 127.0.0.1       8099  SYN_SENT    -> ESTABLISHED 0.655',
      ],
    },
    {
      header:
        'TIME(s)  SKADDR           PID     COMM       LADDR           LPORT RADDR           RPORT OLDSTATE    -> NEWSTATE    MS',
      lines: [
        '03:36:41 ffff888102e1b780 18547   python3    127.0.0.1       8099  127.0.0.1       43758 ESTABLISHED -> FIN_WAIT1   1200.894',
      ],
    },
    {
      header:
        'SKADDR           PID     COMM             IP LADDR                      LPORT RADDR                      RPORT OLDSTATE    -> NEWSTATE    MS',
      lines: [
        'ffff88813e8b0000 18411   python3          6  ::ffff:127.0.0.1           45282 ::ffff:127.0.0.1           8098  SYN_SENT    -> ESTABLISHED 0.341',
      ],
    },
    {
      header: 'SKADDR           C-PID C-COMM     LADDR           LPORT RADDR           RPORT OLDSTATE    -> NEWSTATE    MS',
      lines: ['ffff9fd7e8192000 0     swapper/5  100.66.100.185  63446 52.33.159.26    80    SYN_SENT    -> ESTABLISHED 1.373'],
    },
  ],
}

export default tcpstates
