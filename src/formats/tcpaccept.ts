// https://github.com/iovisor/bcc/blob/master/tools/tcpaccept_example.txt
import { commonMessage } from './messages.js'
import type { Layout, LineResult, LogFormat, RecordTime } from './types.js'

/**
 * tcpaccept (Python bcc only; no libbpf version exists): one row per TCP
 * connection returned by accept(), in the accepting process. No banner.
 *
 * Row: `[%-9s][%-9.3f]%-7d %-12.12s %-2d %-16s %-5d %-16s %-5d` — TIME
 * HH:MM:SS (`-T`), TIME(s) seconds since the first event (`-t`, no separator:
 * merges into PID at >= 10000 s), PID, COMM, IP, RADDR, RPORT, LADDR, LPORT
 * (remote first). bcc's example file shows an older layout (PID 6, RPORT 6).
 * Fields after COMM have no spaces: COMM is what lies between PID and them.
 */
export interface TcpacceptLayout extends Layout {
  readonly variant: 'python' | 'python-old'
  /** `-T` TIME HH:MM:SS. */
  readonly clock: boolean
  /** `-t` TIME(s). */
  readonly relative: boolean
}

const regexCache = new Map<string, RegExp>()

function rowRegex(l: TcpacceptLayout): RegExp {
  const key = `${String(l.clock)}${String(l.relative)}`
  let re = regexCache.get(key)
  if (!re) {
    let src = '^'
    if (l.clock) src += '(\\d{1,2}):(\\d{2}):(\\d{2}) *'
    if (l.relative) src += '(\\d+\\.\\d{3}) *'
    src += '(\\d+) +(.*?) +(\\d+) +(\\S+) +(\\d+) +(\\S+) +(\\d+) *$'
    re = new RegExp(src)
    regexCache.set(key, re)
  }
  return re
}

function detect(line: string): TcpacceptLayout | undefined {
  if (!line.includes('RADDR')) return undefined
  const tokens = line.trim().split(/\s+/)
  let i = 0
  const clock = tokens[i] === 'TIME' ? (i++, true) : false
  const relative = tokens[i] === 'TIME(s)' ? (i++, true) : false
  if (tokens.slice(i).join(' ') !== 'PID COMM IP RADDR RPORT LADDR LPORT') return undefined
  const variant = /(?:^|\s)PID {5}COMM/.test(line) ? 'python' : 'python-old'
  const flags = [clock && '-T', relative && '-t'].filter((f): f is string => typeof f === 'string')
  return { variant, flags, clock, relative }
}

function classify(line: string, layout: TcpacceptLayout, ctx: { partial: boolean }): LineResult {
  const m = rowRegex(layout).exec(line)
  if (!m) {
    const message = commonMessage(line)
    if (message !== undefined) return { kind: 'message', message }
    return {
      kind: 'bad',
      reason: ctx.partial
        ? 'incomplete tcpaccept row'
        : `not a tcpaccept row: expected ${[layout.clock && 'TIME (HH:MM:SS)', layout.relative && 'TIME(s)', 'PID, COMM, IP, RADDR, RPORT, LADDR, LPORT']
            .filter(Boolean)
            .join(', ')}`,
    }
  }
  let g = 1
  let time: RecordTime | undefined
  let timeText: string | undefined
  let elapsed: number | null = null
  if (layout.clock) {
    time = { kind: 'clock', hour: Number(m[g]), minute: Number(m[g + 1]), second: Number(m[g + 2]), utc: false }
    g += 3
    timeText = line.slice(0, 8)
  }
  if (layout.relative) {
    const text = m[g++] ?? ''
    elapsed = Number(text)
    if (!time) {
      time = { kind: 'relative', seconds: elapsed, since: 'first_event', decimals: 3 }
      timeText = text
    }
  }
  const pid = Number(m[g++])
  const comm = m[g++] ?? ''
  const ip = m[g++] ?? ''
  if (ip !== '4' && ip !== '6') return { kind: 'bad', reason: `IP "${ip}" is not 4 or 6` }
  return {
    kind: 'record',
    values: {
      pid,
      comm,
      ip: Number(ip),
      raddr: m[g++] ?? '',
      rport: Number(m[g++]),
      laddr: m[g++] ?? '',
      lport: Number(m[g]),
      elapsed_s: elapsed,
    },
    ...(time ? { time } : {}),
    ...(timeText !== undefined ? { timeText } : {}),
  }
}

const tcpaccept: LogFormat<TcpacceptLayout> = {
  name: 'tcpaccept',
  title: 'tcpaccept',
  description: 'One row per TCP connection accepted by a process (the passive side), with the remote and local endpoints.',
  url: 'https://github.com/iovisor/bcc/blob/master/tools/tcpaccept_example.txt',
  columns: [
    { name: 'pid', kind: 'integer', description: 'PID (tgid) of the accepting process' },
    { name: 'comm', kind: 'text', description: 'task name of the accepting process, cut to 12 characters' },
    { name: 'ip', kind: 'integer', description: 'IP version 4 or 6' },
    { name: 'raddr', kind: 'text', description: 'remote (client) address' },
    { name: 'rport', kind: 'integer', description: 'remote (client) port' },
    { name: 'laddr', kind: 'text', description: 'local (listening) address' },
    { name: 'lport', kind: 'integer', description: 'local (listening) port' },
    {
      name: 'elapsed_s',
      kind: 'real',
      unit: 's',
      description: '-t TIME(s): seconds since the first event printed; the record time unless a TIME clock column (-T) is printed too',
    },
  ],
  detect,
  classify,
  samples: [
    {
      header: 'PID    COMM         IP RADDR            RPORT  LADDR            LPORT',
      lines: [
        '907    sshd         4  192.168.56.1     32324  192.168.56.102   22',
        '5389   perl         6  1234:ab12:2040:5020:2299:0:5:0 52352 1234:ab12:2040:5020:2299:0:5:0 7001',
      ],
    },
    {
      header: 'TIME(s)  PID    COMM         IP RADDR            RPORT LADDR            LPORT',
      lines: ['0.992    907    sshd         4  127.0.0.1        32548 127.0.0.1        22'],
    },
    {
      // current code, -T -t: `%-9s%-9.3f%-7d %-12.12s %-2d %-16s %-5d %-16s %-5d`
      header: 'TIME     TIME(s)  PID     COMM         IP RADDR            RPORT LADDR            LPORT',
      lines: ['21:05:12 1.984    907     sshd         4  127.0.0.1        51250 127.0.0.1        22   '],
    },
  ],
}

export default tcpaccept
