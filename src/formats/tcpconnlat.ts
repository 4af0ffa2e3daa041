// https://github.com/iovisor/bcc/blob/master/tools/tcpconnlat_example.txt
import { commonMessage } from './messages.js'
import type { Layout, LineResult, LogFormat } from './types.js'

/**
 * tcpconnlat: one row per active TCP connect whose SYN got an answer (SYN-ACK,
 * or RST for a closed port), with the SYN → response latency. No banner.
 *
 * - Python bcc: `[%-9.3f]%-7d %-12.12s %-2d %-16s [%-6d ]%-16s %-5d %.2f`
 *   (TIME(s) without a separator; `-L` LPORT after SADDR).
 * - libbpf-tools: `[%-9.3f ]%-6d %-12.12s ...` (PID 6; bcc's Python example
 *   and Python <= 0.24 print the same header).
 *
 * TIME(s) (`-t`) is seconds since the first event, 3 decimals. Fields after
 * COMM have no spaces: COMM is what lies between PID and them.
 */
export interface TcpconnlatLayout extends Layout {
  readonly variant: 'python' | 'libbpf-or-python-0.24'
  /** `-t` TIME(s). */
  readonly time: boolean
  /** `-L` LPORT column. */
  readonly lport: boolean
}

const regexCache = new Map<string, RegExp>()

function rowRegex(l: TcpconnlatLayout): RegExp {
  const key = `${String(l.time)}${String(l.lport)}`
  let re = regexCache.get(key)
  if (!re) {
    let src = '^'
    if (l.time) src += '(\\d+\\.\\d{3}) *'
    src += '(\\d+) +(.*?) +(\\d+) +(\\S+) +'
    if (l.lport) src += '(\\d+) +'
    src += '(\\S+) +(\\d+) +(\\d+\\.\\d{2}) *$'
    re = new RegExp(src)
    regexCache.set(key, re)
  }
  return re
}

function detect(line: string): TcpconnlatLayout | undefined {
  if (!line.includes('LAT(ms)')) return undefined
  const tokens = line.trim().split(/\s+/)
  let i = 0
  const time = tokens[i] === 'TIME(s)' ? (i++, true) : false
  for (const t of ['PID', 'COMM', 'IP', 'SADDR']) if (tokens[i++] !== t) return undefined
  const lport = tokens[i] === 'LPORT' ? (i++, true) : false
  for (const t of ['DADDR', 'DPORT', 'LAT(ms)']) if (tokens[i++] !== t) return undefined
  if (i !== tokens.length) return undefined
  const variant = /(?:^|\s)PID {5}COMM/.test(line) ? 'python' : 'libbpf-or-python-0.24'
  const flags = [time && '-t', lport && '-L'].filter((f): f is string => typeof f === 'string')
  return { variant, flags, time, lport }
}

function classify(line: string, layout: TcpconnlatLayout, ctx: { partial: boolean }): LineResult {
  const m = rowRegex(layout).exec(line)
  if (!m) {
    const message = commonMessage(line)
    if (message !== undefined) return { kind: 'message', message }
    return {
      kind: 'bad',
      reason: ctx.partial
        ? 'incomplete tcpconnlat row'
        : `not a tcpconnlat row: expected ${[layout.time && 'TIME(s)', 'PID, COMM, IP, SADDR', layout.lport && 'LPORT', 'DADDR, DPORT, LAT(ms) (2 decimals)']
            .filter(Boolean)
            .join(', ')}`,
    }
  }
  let g = 1
  const timeText = layout.time ? (m[g++] ?? '') : undefined
  const pid = Number(m[g++])
  const comm = m[g++] ?? ''
  const ip = m[g++] ?? ''
  if (ip !== '4' && ip !== '6') return { kind: 'bad', reason: `IP "${ip}" is not 4 or 6` }
  const saddr = m[g++] ?? ''
  const sport = layout.lport ? Number(m[g++]) : null
  return {
    kind: 'record',
    values: {
      pid,
      comm,
      ip: Number(ip),
      saddr,
      sport,
      daddr: m[g++] ?? '',
      dport: Number(m[g++]),
      lat_ms: Number(m[g]),
    },
    ...(timeText !== undefined
      ? { time: { kind: 'relative', seconds: Number(timeText), since: 'first_event', decimals: 3 } as const, timeText }
      : {}),
  }
}

const tcpconnlat: LogFormat<TcpconnlatLayout> = {
  name: 'tcpconnlat',
  title: 'tcpconnlat',
  description:
    'One row per active TCP connect that got an answer (SYN-ACK, or RST when refused), with the latency from SYN to the answer; connects that time out never appear.',
  url: 'https://github.com/iovisor/bcc/blob/master/tools/tcpconnlat_example.txt',
  columns: [
    { name: 'pid', kind: 'integer', description: 'PID (tgid) of the connecting process' },
    { name: 'comm', kind: 'text', description: 'task name of the connecting process, cut to 12 characters' },
    { name: 'ip', kind: 'integer', description: 'IP version 4 or 6' },
    { name: 'saddr', kind: 'text', description: 'source (local) address' },
    { name: 'sport', kind: 'integer', description: 'source port (-L LPORT)' },
    { name: 'daddr', kind: 'text', description: 'destination address' },
    { name: 'dport', kind: 'integer', description: 'destination port' },
    { name: 'lat_ms', kind: 'real', unit: 'ms', description: 'latency from sending the SYN to the response (SYN-ACK or RST), 2 decimals' },
  ],
  detect,
  classify,
  samples: [
    {
      header: 'PID    COMM         IP SADDR            DADDR            DPORT LAT(ms)',
      lines: [
        '1201   wget         4  10.153.223.157   23.23.100.231    80    1.65',
        '20337  python2.7    6  1234:ab12:2040:5020:2299:0:5:0 1234:ab12:20:9f1d:2299:dde9:0:f5 7001  62.20',
      ],
    },
    {
      // Python -t -L (spec printf: `%-9.3f%-7d %-12.12s %-2d %-16s %-6d %-16s %-5d %.2f`)
      header: 'TIME(s)  PID     COMM         IP SADDR            LPORT  DADDR            DPORT LAT(ms)',
      lines: ['10000.1232852    curl         4  10.153.223.157   41234  23.101.17.61     80    250.86'],
    },
    {
      // libbpf -t (spec printf: `%-9.3f %-6d %-12.12s %-2d %-16s %-16s %-5d %.2f`)
      header: 'TIME(s)   PID    COMM         IP SADDR            DADDR            DPORT LAT(ms)',
      lines: ['0.012     2852   curl         4  127.0.0.1        127.0.0.1        8099  0.05'],
    },
  ],
}

export default tcpconnlat
