// https://github.com/iovisor/bcc/blob/master/tools/tcplife_example.txt
import { commonMessage } from './messages.js'
import type { Layout, LineResult, LogFormat } from './types.js'
import { addr, ipVersion, port, readTimes } from './tcp-fields.js'

/**
 * tcplife: one row per TCP socket that reached CLOSE while tracing: its
 * endpoints, bytes sent and received, and lifetime.
 *
 * - libbpf-tools: `[%8s ]%-7d %-16s %-*s %-5d %-*s %-5d %-6.2f %-6.2f %-.2f`
 *   (addresses 15 wide, 26/39 with `-w`); `-T` prints the header `TIME(s)`
 *   with HH:MM:SS values; never an IP column; KB with 2 decimals.
 * - Python bcc: PID 5, COMM 10 (16 with `-w`), integer KB (`%5d`, `%6d`
 *   wide), IP column with `-w`/`-s`; `-T` TIME HH:MM:SS, `-t` TIME(s)
 *   `%-9.6f` seconds since the first event; `-s` CSV (COMM not truncated, may
 *   contain commas).
 *
 * Every field after COMM is free of spaces: rows are tokenised from both ends
 * and COMM (which may contain spaces) is what lies between PID and them.
 */
export interface TcplifeLayout extends Layout {
  readonly variant: 'libbpf' | 'python'
  /** Wall-clock column (libbpf `TIME(s)`, Python `TIME`). */
  readonly clock: boolean
  /** Python `-t` TIME(s): seconds since the first event. */
  readonly relative: boolean
  /** IP column printed (Python `-w`, CSV). */
  readonly ip: boolean
  readonly csv: boolean
}

const TIME_TOKEN = '(\\d{1,2}:\\d{2}:\\d{2}|\\d+\\.\\d+)'
const INT = /^\d+$/
const KB = /^\d+(?:\.\d{2})?$/
const MS = /^\d+\.\d{2}$/

const regexCache = new Map<string, RegExp>()

function rowRegex(l: TcplifeLayout): RegExp {
  const times = Number(l.clock) + Number(l.relative)
  const key = `${times}${String(l.ip)}`
  let re = regexCache.get(key)
  if (!re) {
    let src = '^'
    for (let i = 0; i < times; i++) src += `${TIME_TOKEN} +`
    src += '(\\d+) +(.*?) +'
    if (l.ip) src += '(\\S+) +'
    src += '(\\S+) +(\\d+) +(\\S+) +(\\d+) +(\\d+(?:\\.\\d{2})?) +(\\d+(?:\\.\\d{2})?) +(\\d+\\.\\d{2}) *$'
    re = new RegExp(src)
    regexCache.set(key, re)
  }
  return re
}

function detect(line: string): TcplifeLayout | undefined {
  if (!line.includes('TX_KB')) return undefined
  const csv = line.includes(',')
  const tokens = csv ? line.trim().split(',') : line.trim().split(/\s+/)
  let i = 0
  const times: string[] = []
  while (tokens[i] === 'TIME' || tokens[i] === 'TIME(s)') times.push(tokens[i++] ?? '')
  if (tokens[i++] !== 'PID' || tokens[i++] !== 'COMM') return undefined
  const ip = tokens[i] === 'IP' ? (i++, true) : false
  for (const t of ['LADDR', 'LPORT', 'RADDR', 'RPORT', 'TX_KB', 'RX_KB', 'MS']) if (tokens[i++] !== t) return undefined
  if (i !== tokens.length) return undefined
  // libbpf: `%-7s %-16s` PID COMM, never an IP column or CSV; Python PID is 5 wide
  const variant: TcplifeLayout['variant'] = !csv && !ip && /(?:^|\s)PID {5}COMM {13}LADDR/.test(line) ? 'libbpf' : 'python'
  let clock = false
  let relative = false
  if (variant === 'libbpf') {
    // libbpf -T: header TIME(s), values HH:MM:SS
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
      ? [clock && '-T', /LADDR {20}/.test(line) && '-w']
      : [clock && '-T', relative && '-t', ip && !csv && '-w', csv && '-s']
  return { variant, flags: flags.filter((f): f is string => typeof f === 'string'), clock, relative, ip, csv }
}




interface Fields {
  pid: string
  comm: string
  ip: string | undefined
  laddr: string
  lport: string
  raddr: string
  rport: string
  tx: string
  rx: string
  ms: string
}

function splitCsv(line: string, layout: TcplifeLayout): { times: string[]; f: Fields } | string {
  const parts = line.split(',')
  const nTimes = Number(layout.clock) + Number(layout.relative)
  const expected = nTimes + 10
  if (parts.length < expected) return `expected ${expected} comma-separated fields, found ${parts.length}`
  const extra = parts.length - expected // commas inside COMM
  const at = (i: number): string => parts[i < nTimes + 1 ? i : i + extra] ?? ''
  const f: Fields = {
    pid: at(nTimes),
    comm: parts.slice(nTimes + 1, nTimes + 2 + extra).join(','),
    ip: at(nTimes + 2),
    laddr: at(nTimes + 3),
    lport: at(nTimes + 4),
    raddr: at(nTimes + 5),
    rport: at(nTimes + 6),
    tx: at(nTimes + 7),
    rx: at(nTimes + 8),
    ms: at(nTimes + 9).trimEnd(),
  }
  for (const [name, v] of [
    ['PID', f.pid],
    ['LPORT', f.lport],
    ['RPORT', f.rport],
  ] as const)
    if (!INT.test(v)) return `${name} "${v}" is not a number`
  if (!KB.test(f.tx) || !KB.test(f.rx)) return `TX_KB/RX_KB "${f.tx}"/"${f.rx}" are not numbers`
  if (!MS.test(f.ms)) return `MS "${f.ms}" is not a number with 2 decimals`
  return { times: parts.slice(0, nTimes), f }
}

function classify(line: string, layout: TcplifeLayout, ctx: { partial: boolean }): LineResult {
  let times: string[]
  let f: Fields
  if (layout.csv) {
    const r = line.includes(',') ? splitCsv(line, layout) : 'not comma-separated'
    if (typeof r === 'string') {
      const message = commonMessage(line)
      if (message !== undefined) return { kind: 'message', message }
      return { kind: 'bad', reason: ctx.partial ? `incomplete tcplife CSV row: ${r}` : `not a tcplife CSV row: ${r}` }
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
          ? 'incomplete tcplife row'
          : `not a tcplife row: expected ${[
              layout.clock && 'TIME',
              layout.relative && 'TIME(s)',
              'PID, COMM',
              layout.ip && 'IP',
              'LADDR, LPORT, RADDR, RPORT, TX_KB, RX_KB, MS (2 decimals)',
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
      pid: next(),
      comm: next(),
      ip: layout.ip ? next() : undefined,
      laddr: next(),
      lport: next(),
      raddr: next(),
      rport: next(),
      tx: next(),
      rx: next(),
      ms: next(),
    }
  }
  const t = readTimes(times)
  if (typeof t === 'string') return { kind: 'bad', reason: `not a tcplife row: ${t}` }
  const ip = ipVersion(f.ip, f.laddr)
  if (typeof ip !== 'number') return { kind: 'bad', reason: ip.bad }
  return {
    kind: 'record',
    values: {
      pid: Number(f.pid),
      comm: f.comm,
      ip,
      laddr: addr(f.laddr),
      lport: port(f.lport),
      raddr: addr(f.raddr),
      rport: port(f.rport),
      tx_kb: Number(f.tx),
      rx_kb: Number(f.rx),
      ms: Number(f.ms),
      elapsed_s: t.elapsed,
    },
    ...(t.time ? { time: t.time } : {}),
    ...(t.timeText !== undefined ? { timeText: t.timeText } : {}),
  }
}

const tcplife: LogFormat<TcplifeLayout> = {
  name: 'tcplife',
  title: 'tcplife',
  description:
    'One row per TCP socket that closed while tracing (both ends of a loopback connection each get one): endpoints, KiB sent and received, and lifetime in ms.',
  url: 'https://github.com/iovisor/bcc/blob/master/tools/tcplife_example.txt',
  columns: [
    {
      name: 'pid',
      kind: 'integer',
      description:
        'PID attributed to the socket: the task that connected (SYN_SENT) or entered LAST_ACK; for a server socket that closed first, whatever task was on CPU at close (often the peer on loopback)',
    },
    { name: 'comm', kind: 'text', description: 'task name of that PID (Python: cut to 10 characters unless -w or CSV)' },
    {
      name: 'ip',
      kind: 'integer',
      description: 'IP version 4 or 6: the IP column when printed (Python -w, CSV), else derived from the address text (v4-mapped ::ffff:a.b.c.d is 6)',
    },
    { name: 'laddr', kind: 'text', description: 'local address as printed (inet_ntop text); NULL for 0.0.0.0 / ::' },
    { name: 'lport', kind: 'integer', description: 'local port; NULL when printed 0' },
    { name: 'raddr', kind: 'text', description: 'remote address; NULL for 0.0.0.0 / ::' },
    { name: 'rport', kind: 'integer', description: 'remote port; NULL when printed 0' },
    {
      name: 'tx_kb',
      kind: 'real',
      unit: 'KiB',
      description: 'bytes sent and acknowledged by the peer / 1024: 2 decimals (libbpf) or truncated to an integer (Python)',
    },
    {
      name: 'rx_kb',
      kind: 'real',
      unit: 'KiB',
      description: 'bytes received / 1024: 2 decimals (libbpf) or truncated to an integer (Python)',
    },
    {
      name: 'ms',
      kind: 'real',
      unit: 'ms',
      description: 'lifetime: from the last transition into an open state (normally ESTABLISHED, so without the handshake) to CLOSE',
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
      header: 'PID     COMM             LADDR           LPORT RADDR           RPORT TX_KB  RX_KB  MS',
      lines: [
        '17306   curl             127.0.0.1       8099  127.0.0.1       43220 300.20 0.08   0.99',
        '17261   python3          ::ffff:127.0.0.1 51734 ::ffff:127.0.0.1 8098  0.01   0.01   0.20',
      ],
    },
    {
      header: 'TIME(s)  PID     COMM             LADDR           LPORT RADDR           RPORT TX_KB  RX_KB  MS',
      lines: ['03:34:38 17401   python3          127.0.0.1       8099  127.0.0.1       60932 0.18   0.03   1201.21'],
    },
    {
      header: 'PID   COMM       LADDR           LPORT RADDR           RPORT TX_KB RX_KB MS',
      lines: ['7619  sshd       100.66.3.172    22    100.127.64.230  63033     5 10255 3066.79'],
    },
    {
      header: 'PID   COMM             IP LADDR                      LPORT RADDR                      RPORT  TX_KB  RX_KB MS',
      lines: ['26320 ssh              6  fe80::8a3:9dff:fed5:6b19   22440 fe80::8a3:9dff:fed5:6b19   22         1      1 457.52'],
    },
    {
      header: 'TIME,TIME(s),PID,COMM,IP,LADDR,LPORT,RADDR,RPORT,TX_KB,RX_KB,MS',
      lines: ['23:39:38,0.000064,3277,redis-server,4,127.0.0.1,28527,127.0.0.1,48098,0,0,0.32'],
    },
    {
      header: 'TIME(s)   PID   COMM       LADDR           LPORT RADDR           RPORT TX_KB RX_KB MS',
      lines: ['1.022454  5996  recordProg 127.0.0.1       47988 127.0.0.1       28527     0     0 0.23'],
    },
  ],
}

export default tcplife
