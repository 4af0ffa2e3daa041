// https://github.com/iovisor/bcc/blob/master/tools/tcpretrans_example.txt
import { commonMessage } from './messages.js'
import type { Layout, LineResult, LogFormat } from './types.js'
import { family } from './tcp-fields.js'

/**
 * tcpretrans (Python bcc only; no libbpf version exists): a banner
 * `Tracing retransmits ... Hit Ctrl-C to end`, then
 *
 * - event mode: `TIME PID IP LADDR:LPORT T> RADDR:RPORT STATE [SEQ]`, one row
 *   per retransmit (`R>`) or, with `-l`, tail loss probe (`L>`):
 *   `%-8s %-7d %-2d %-20s %1s> %-20s %s` (PID 6 wide in <= 0.24), `-s` adds
 *   `%-12s %s` STATE SEQ;
 * - count mode (`-c`): at SIGINT an empty line, `LADDR:LPORT RADDR:RPORT
 *   RETRANSMITS` and one row per flow `%-20s <-> %-20s %10d` with endpoints
 *   `[ADDR]#PORT` (bcc's example file shows `ADDR:PORT`; both accepted).
 *
 * Addresses and ports are split on the last `:` (IPv6 addresses contain
 * colons).
 */
export interface TcpretransLayout extends Layout {
  readonly variant: 'python'
  readonly mode: 'event' | 'count'
  /** `-s`: SEQ column. */
  readonly seq: boolean
}

const STATES = new Set([
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

const EVENT = /^(\d{1,2}):(\d{2}):(\d{2}) +(\d+) +(\d+) +(\S+):(\d+) +([RL])> +(\S+):(\d+) +(\S+) *$/
const EVENT_SEQ = /^(\d{1,2}):(\d{2}):(\d{2}) +(\d+) +(\d+) +(\S+):(\d+) +([RL])> +(\S+):(\d+) +(\S+) +(\d+) *$/
const ENDPOINT = '(?:\\[(\\S+)\\]#(\\d+)|(\\S+):(\\d+))'
const COUNT = new RegExp(`^ *${ENDPOINT} +<-> +${ENDPOINT} +(\\d+) *$`)

function detect(line: string): TcpretransLayout | 'banner' | undefined {
  if (!line.includes('LADDR:LPORT')) return line.startsWith('Tracing retransmits') ? 'banner' : undefined
  const tokens = line.trim().split(/\s+/)
  if (tokens.join(' ') === 'LADDR:LPORT RADDR:RPORT RETRANSMITS') return { variant: 'python', flags: ['-c'], mode: 'count', seq: false }
  const head = 'TIME PID IP LADDR:LPORT T> RADDR:RPORT STATE'
  if (tokens.join(' ') === head) return { variant: 'python', flags: [], mode: 'event', seq: false }
  if (tokens.join(' ') === `${head} SEQ`) return { variant: 'python', flags: ['-s'], mode: 'event', seq: true }
  return undefined
}


function classify(line: string, layout: TcpretransLayout, ctx: { partial: boolean }): LineResult {
  if (layout.mode === 'count') {
    const m = COUNT.exec(line)
    if (!m) {
      const message = commonMessage(line)
      if (message !== undefined) return { kind: 'message', message }
      return {
        kind: 'bad',
        reason: ctx.partial
          ? 'incomplete tcpretrans count row'
          : 'not a tcpretrans count row: expected [LADDR]#LPORT <-> [RADDR]#RPORT RETRANSMITS',
      }
    }
    const laddr = m[1] ?? m[3] ?? ''
    const raddr = m[5] ?? m[7] ?? ''
    return {
      kind: 'record',
      values: {
        mode: 'count',
        pid: null,
        ip: family(laddr),
        laddr,
        lport: Number(m[2] ?? m[4]),
        type: null,
        raddr,
        rport: Number(m[6] ?? m[8]),
        state: null,
        seq: null,
        count: Number(m[9]),
      },
    }
  }
  const m = (layout.seq ? EVENT_SEQ : EVENT).exec(line)
  if (!m) {
    const message = commonMessage(line)
    if (message !== undefined) return { kind: 'message', message }
    return {
      kind: 'bad',
      reason: ctx.partial
        ? 'incomplete tcpretrans row'
        : `not a tcpretrans row: expected TIME (HH:MM:SS), PID, IP, LADDR:LPORT, R> or L>, RADDR:RPORT, STATE${layout.seq ? ', SEQ' : ''}`,
    }
  }
  const state = m[11] ?? ''
  if (!STATES.has(state) && !/^\d+$/.test(state)) {
    return { kind: 'bad', reason: ctx.partial ? `incomplete tcpretrans row (STATE "${state}")` : `unknown TCP state "${state}"` }
  }
  const ip = m[5] ?? ''
  if (ip !== '4' && ip !== '6') return { kind: 'bad', reason: `IP "${ip}" is not 4 or 6` }
  const type = m[8] ?? 'R'
  const seqText = layout.seq ? (m[12] ?? '') : undefined
  return {
    kind: 'record',
    values: {
      mode: 'event',
      pid: Number(m[4]),
      ip: Number(ip),
      laddr: m[6] ?? '',
      lport: Number(m[7]),
      type,
      raddr: m[9] ?? '',
      rport: Number(m[10]),
      state,
      // L> rows print SEQ 0: no sequence number for a loss probe
      seq: seqText === undefined || (type === 'L' && seqText === '0') ? null : Number(seqText),
      count: null,
    },
    time: { kind: 'clock', hour: Number(m[1]), minute: Number(m[2]), second: Number(m[3]), utc: false },
    timeText: line.slice(0, line.indexOf(' ')),
  }
}

const tcpretrans: LogFormat<TcpretransLayout> = {
  name: 'tcpretrans',
  title: 'tcpretrans',
  description:
    'One row per TCP retransmission (type R) or, with -l, tail loss probe (type L) of a connection; with -c one row per flow with its retransmit count, printed when the tool stopped (mode count).',
  url: 'https://github.com/iovisor/bcc/blob/master/tools/tcpretrans_example.txt',
  columns: [
    {
      name: 'mode',
      kind: 'text',
      description: 'event: one retransmit or loss probe; count: a -c summary row (per flow, no time, count set)',
    },
    {
      name: 'pid',
      kind: 'integer',
      description: 'PID on CPU when the retransmit fired: usually 0 (softirq/timer), not the socket owner; NULL on count rows',
    },
    { name: 'ip', kind: 'integer', description: 'IP version 4 or 6 (printed in event mode, derived from the address in count mode)' },
    { name: 'laddr', kind: 'text', description: 'local address' },
    { name: 'lport', kind: 'integer', description: 'local port' },
    { name: 'type', kind: 'text', description: 'R retransmit, L tail loss probe (-l); NULL on count rows' },
    { name: 'raddr', kind: 'text', description: 'remote address' },
    { name: 'rport', kind: 'integer', description: 'remote port' },
    { name: 'state', kind: 'text', description: 'TCP state of the socket at that moment (a number when unknown to the tool)' },
    { name: 'seq', kind: 'integer', description: 'TCP sequence number (-s, unsigned 32-bit); NULL when not printed or on L rows (printed 0)' },
    { name: 'count', kind: 'integer', description: 'retransmits of the flow over the whole run (count mode -c)' },
  ],
  detect,
  classify,
  samples: [
    {
      header: 'TIME     PID    IP LADDR:LPORT          T> RADDR:RPORT          STATE',
      lines: [
        '01:55:05 0      4  10.153.223.157:22    R> 69.53.245.40:34619   ESTABLISHED',
        '01:55:53 0      4  10.153.223.157:22    L> 69.53.245.40:46444   ESTABLISHED',
      ],
    },
    {
      header: 'TIME     PID    IP LADDR:LPORT          T> RADDR:RPORT          STATE        SEQ',
      lines: ['18:03:46 0      4  192.168.10.50:41976  R> 172.217.21.194:443   SYN_SENT     2879306108'],
    },
    {
      header: 'LADDR:LPORT              RADDR:RPORT             RETRANSMITS',
      lines: ['192.168.10.50:60366  <-> 172.217.21.194:443         700'],
    },
    {
      // current code: `%-8s %-7d %-2d %-20s %1s> %-20s %s`, count rows `[ADDR]#PORT`
      header: 'TIME     PID     IP LADDR:LPORT          T> RADDR:RPORT          STATE',
      lines: ['01:55:05 0       6  fe80::1:22           R> fe80::2:51234        ESTABLISHED'],
    },
    {
      header: 'LADDR:LPORT               RADDR:RPORT               RETRANSMITS',
      lines: ['[10.0.0.1]#22        <-> [10.0.0.2]#51234              3'],
    },
  ],
}

export default tcpretrans
