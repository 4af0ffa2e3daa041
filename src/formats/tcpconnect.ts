// https://github.com/iovisor/bcc/blob/master/tools/tcpconnect_example.txt
import { commonMessage } from './messages.js'
import type { Layout, LineResult, LogFormat } from './types.js'
import { clean, widen } from './widths.js'

/**
 * tcpconnect: one row per attempted active TCP connect (the SYN was queued;
 * the connection may still fail); `-c`: per-flow counts printed at SIGINT.
 *
 * - Python bcc: banner `Tracing connect ... Hit Ctrl-C to end` (every mode);
 *   `[%-9.3f][%-6d]%-7d %-12.12s %-2d %-16s [%-6d ]%-16s %-6d %s` with
 *   TIME(s) (`-t`, seconds since the first event) and UID (`-U`) without a
 *   separator, `-L` LPORT between SADDR and DADDR, `-d` QUERY (free text, may
 *   hold spaces) as the last field (else empty: rows end in a space). <= 0.24
 *   printed PID 6 wide.
 * - libbpf-tools: no banner; `[%-9.3f][%-6d]%-6d %-12.12s %-2d %-16s %-16s[
 *   %-5d] %-5d` (COMM 16 from 0.31), `-s` SPORT after DADDR.
 * - Count mode: an empty line, `LADDR RADDR [LPORT] RPORT CONNECTS`, then
 *   `%-25s %-25s [%-20d ]%-20d %-10d` rows.
 *
 * The headers of libbpf 0.26 and Python <= 0.24 are identical (`PID    COMM
 * ...`): that variant is `libbpf-or-python-0.24` (the rows parse the same);
 * the count header without `LPORT` is the same in both (`libbpf-or-python`).
 * The Python banner tells them apart but is not kept in the layout.
 */
export interface TcpconnectLayout extends Layout {
  readonly variant: 'python' | 'libbpf' | 'libbpf-or-python-0.24' | 'libbpf-or-python'
  readonly mode: 'event' | 'count'
  /** `-t` TIME(s). */
  readonly time: boolean
  /** `-U` UID. */
  readonly uid: boolean
  /** Python `-L` LPORT column (between SADDR and DADDR). */
  readonly lport: boolean
  /** libbpf `-s` SPORT column (after DADDR), or LPORT in the libbpf count table. */
  readonly sport: boolean
  /** Python `-d` QUERY column. */
  readonly query: boolean
  /** COMM field width in bytes (12, or 16 in libbpf >= 0.31). */
  readonly commWidth: number
}

/**
 * `%-6d` UID without a separator: exactly 6 characters unless the number is
 * longer (then it touches PID and is taken as short as possible).
 */
const UID6 = '(\\d{6}|\\d{5} |\\d{4} {2}|\\d{3} {3}|\\d{2} {4}|\\d {5}|\\d{7,}?)'

const regexCache = new Map<string, RegExp>()

function rowRegex(l: TcpconnectLayout, fixedComm: boolean): RegExp {
  const key = `${l.mode}${String(l.time)}${String(l.uid)}${String(l.lport)}${String(l.sport)}${String(l.query)}${l.commWidth}${String(fixedComm)}`
  let re = regexCache.get(key)
  if (!re) {
    let src = '^'
    if (l.mode === 'count') {
      src += ' *(\\S+) +(\\S+) +'
      if (l.sport) src += '(\\d+) +'
      src += '(\\d+) +(\\d+) *$'
    } else {
      if (l.time) src += '(\\d+\\.\\d{3}) *'
      if (l.uid) src += UID6
      src += fixedComm ? `(\\d+) +(.{${l.commWidth}}) +` : '(\\d+) +(.*?) +'
      src += '(\\d+) +(\\S+) +'
      if (l.lport) src += '(\\d+) +'
      src += '(\\S+) +'
      if (l.sport) src += '(\\d+) +'
      src += '(\\d+)'
      src += l.query ? '(?: +(.*?))? *$' : ' *$'
    }
    re = new RegExp(src)
    regexCache.set(key, re)
  }
  return re
}

function detect(line: string): TcpconnectLayout | 'banner' | undefined {
  if (!line.includes('DPORT') && !line.includes('CONNECTS')) return line.startsWith('Tracing connect') ? 'banner' : undefined
  const tokens = line.trim().split(/\s+/)
  if (tokens[0] === 'LADDR') {
    const t = tokens.join(' ')
    const sport = t === 'LADDR RADDR LPORT RPORT CONNECTS'
    if (!sport && t !== 'LADDR RADDR RPORT CONNECTS') return undefined
    return {
      variant: sport ? 'libbpf' : 'libbpf-or-python',
      flags: sport ? ['-c', '-s'] : ['-c'],
      mode: 'count',
      time: false,
      uid: false,
      lport: false,
      sport,
      query: false,
      commWidth: 12,
    }
  }
  let i = 0
  const time = tokens[i] === 'TIME(s)' ? (i++, true) : false
  const uid = tokens[i] === 'UID' ? (i++, true) : false
  for (const t of ['PID', 'COMM', 'IP', 'SADDR']) if (tokens[i++] !== t) return undefined
  const lport = tokens[i] === 'LPORT' ? (i++, true) : false
  if (tokens[i++] !== 'DADDR') return undefined
  const sport = tokens[i] === 'SPORT' ? (i++, true) : false
  if (tokens[i++] !== 'DPORT') return undefined
  const query = tokens[i] === 'QUERY' ? (i++, true) : false
  if (i !== tokens.length || (sport && (lport || query))) return undefined
  const comm = line.indexOf('COMM')
  const commWidth = Math.max(12, line.indexOf(' IP ', comm) - comm)
  const variant: TcpconnectLayout['variant'] =
    lport || query || /(?:^|\s)PID {5}COMM/.test(line)
      ? 'python'
      : sport || commWidth >= 16
        ? 'libbpf'
        : 'libbpf-or-python-0.24'
  const flags = [time && '-t', uid && '-U', lport && '-L', sport && '-s', query && '-d'].filter(
    (f): f is string => typeof f === 'string',
  )
  return { variant, flags, mode: 'event', time, uid, lport, sport, query, commWidth }
}

/** QUERY: `name`, `name (123.342ms)` (answer older than 100 ms), `No DNS Query`. */
function splitQuery(q: string): { query: string | null; age: number | null } {
  const m = /^(.*?) \((\d+(?:\.\d+)?)ms\)$/.exec(q)
  const name = m ? (m[1] ?? '') : q
  return { query: name === 'No DNS Query' || name === '' ? null : name, age: m ? Number(m[2]) : null }
}

function classify(line: string, layout: TcpconnectLayout, ctx: { partial: boolean }): LineResult {
  if (layout.mode === 'count') {
    const m = rowRegex(layout, false).exec(line)
    if (!m) {
      const message = commonMessage(line)
      if (message !== undefined) return { kind: 'message', message }
      return {
        kind: 'bad',
        reason: ctx.partial
          ? 'incomplete tcpconnect count row'
          : `not a tcpconnect count row: expected LADDR, RADDR, ${layout.sport ? 'LPORT, ' : ''}RPORT, CONNECTS`,
      }
    }
    let g = 1
    const saddr = m[g++] ?? ''
    const daddr = m[g++] ?? ''
    const sport = layout.sport ? Number(m[g++]) : null
    const dport = Number(m[g++])
    return {
      kind: 'record',
      values: {
        mode: 'count',
        uid: null,
        pid: null,
        comm: null,
        ip: saddr.includes(':') ? 6 : 4,
        saddr,
        sport,
        daddr,
        dport,
        query: null,
        dns_age_ms: null,
        count: Number(m[g]),
      },
    }
  }
  const text = layout.query ? widen(line) : line
  const m = (layout.query ? rowRegex(layout, true).exec(text) : null) ?? rowRegex(layout, false).exec(text)
  if (!m) {
    const message = commonMessage(line)
    if (message !== undefined) return { kind: 'message', message }
    return {
      kind: 'bad',
      reason: ctx.partial
        ? 'incomplete tcpconnect row'
        : `not a tcpconnect row: expected ${[
            layout.time && 'TIME(s)',
            layout.uid && 'UID',
            'PID, COMM, IP, SADDR',
            layout.lport && 'LPORT',
            'DADDR',
            layout.sport && 'SPORT',
            'DPORT',
            layout.query && 'QUERY',
          ]
            .filter(Boolean)
            .join(', ')}`,
    }
  }
  let g = 1
  const timeText = layout.time ? (m[g++] ?? '') : undefined
  const uid = layout.uid ? Number((m[g++] ?? '').trimEnd()) : null
  const pid = Number(m[g++])
  const comm = clean(m[g++]).trimEnd()
  const ip = m[g++] ?? ''
  if (ip !== '4' && ip !== '6') return { kind: 'bad', reason: `IP "${ip}" is not 4 or 6` }
  const saddr = m[g++] ?? ''
  let sport = layout.lport ? Number(m[g++]) : null
  const daddr = m[g++] ?? ''
  if (layout.sport) sport = Number(m[g++])
  const dport = Number(m[g++])
  const q = layout.query ? splitQuery(clean(m[g]).trimEnd()) : { query: null, age: null }
  return {
    kind: 'record',
    values: {
      mode: 'event',
      uid,
      pid,
      comm,
      ip: Number(ip),
      saddr,
      sport,
      daddr,
      dport,
      query: q.query,
      dns_age_ms: q.age,
      count: null,
    },
    ...(timeText !== undefined
      ? { time: { kind: 'relative', seconds: Number(timeText), since: 'first_event', decimals: 3 } as const, timeText }
      : {}),
  }
}

const tcpconnect: LogFormat<TcpconnectLayout> = {
  name: 'tcpconnect',
  title: 'tcpconnect',
  description:
    'One row per attempted active TCP connect (SYN queued, outcome unknown: pair with tcpstates/tcplife); with -c one row per flow with its connect count, printed when the tool stopped (mode count).',
  url: 'https://github.com/iovisor/bcc/blob/master/tools/tcpconnect_example.txt',
  columns: [
    { name: 'mode', kind: 'text', description: 'event: one connect attempt; count: a -c summary row (per flow, no time, count set)' },
    { name: 'uid', kind: 'integer', description: 'UID of the connecting process (-U)' },
    { name: 'pid', kind: 'integer', description: 'PID (tgid) of the connecting process; NULL on count rows' },
    { name: 'comm', kind: 'text', description: 'task name of the connecting process, cut to 12 characters (16 in libbpf >= 0.31)' },
    { name: 'ip', kind: 'integer', description: 'IP version 4 or 6 (derived from the address on count rows)' },
    { name: 'saddr', kind: 'text', description: 'source (local) address; LADDR on count rows' },
    { name: 'sport', kind: 'integer', description: 'source port: Python -L LPORT, libbpf -s SPORT (and LPORT of libbpf -c -s count rows)' },
    { name: 'daddr', kind: 'text', description: 'destination address; RADDR on count rows' },
    { name: 'dport', kind: 'integer', description: 'destination port; RPORT on count rows' },
    {
      name: 'query',
      kind: 'text',
      description: 'Python -d: the DNS name last resolved to daddr (`localhost` for loopback); NULL when not printed or `No DNS Query`',
    },
    {
      name: 'dns_age_ms',
      kind: 'real',
      unit: 'ms',
      description: 'Python -d: age of that DNS answer at connect time, printed as ` (123.342ms)` only when over 100 ms',
    },
    { name: 'count', kind: 'integer', description: 'connects of the flow over the whole run (count mode -c)' },
  ],
  detect,
  classify,
  samples: [
    {
      header: 'PID    COMM         IP SADDR            DADDR            DPORT',
      lines: [
        '1479   telnet       4  127.0.0.1        127.0.0.1        23',
        '2015   ssh          6  fe80::2000:bff:fe82:3ac fe80::2000:bff:fe82:3ac 22',
      ],
    },
    {
      header: 'TIME(s)  PID    COMM         IP SADDR            DADDR            DPORT',
      lines: ['31.871   2482   local_agent  4  10.103.219.236   10.251.148.38    7001'],
    },
    {
      header: 'PID    COMM         IP SADDR            DADDR            DPORT QUERY',
      lines: [
        '1469   curl         4  10.201.219.236   54.245.105.25    80    www.domain.com (123.342ms)',
        '1469   curl         4  10.201.219.236   54.67.101.145    80    No DNS Query',
      ],
    },
    {
      header: 'PID    COMM         IP SADDR            LPORT  DADDR            DPORT',
      lines: ['3779   ssh          6  fe80::1          52328  fe80::2          22'],
    },
    {
      header: 'UID   PID    COMM         IP SADDR            DADDR            DPORT',
      lines: ['1000  31322  curl         4  127.0.0.1        127.0.0.1        80'],
    },
    {
      header: 'LADDR                 RADDR                      RPORT             CONNECTS',
      lines: ['192.168.10.50         172.217.21.194             443               70'],
    },
    {
      // Python >= 0.25 (spec printf: `%-7d %-12.12s %-2d %-16s %-16s %-6d %s`)
      header: 'PID     COMM         IP SADDR            DADDR            DPORT ',
      lines: ['31338   telnet       4  127.0.0.1        127.0.0.1        23     '],
    },
    {
      // libbpf >= 0.31 -t -U -s (spec: `%-9.3f%-6d%-6d %-16.16s %-2d %-16s %-16s %-5d %-5d`)
      header: 'TIME(s)  UID   PID    COMM             IP SADDR            DADDR            SPORT DPORT',
      lines: ['0.000    1000  4123   curl             4  127.0.0.1        127.0.0.1        41234 8099 '],
    },
  ],
}

export default tcpconnect
