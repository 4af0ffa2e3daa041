// https://github.com/iovisor/bcc/blob/master/tools/sofdsnoop_example.txt
import { commonMessage } from './messages.js'
import type { Layout, LineResult, LogFormat, RecordTime } from './types.js'
import { clean, widen } from './widths.js'

/**
 * sofdsnoop (Python bcc only; no libbpf-tools version): one row per file
 * descriptor passed over a unix socket with SCM_RIGHTS. Row: optional
 * `%-14.9f` TIME(s) without a separator, then `%-6s %-6d %-16s %-25s %-5d %s`
 * ACTION TID COMM SOCKET FD NAME. SOCKET is `<sockfd>:<readlink target>`,
 * free text that may contain spaces and overflow its 25 characters (then
 * one space separates it from FD); NAME is empty on RECV rows.
 */
export interface SofdsnoopLayout extends Layout {
  readonly variant: 'python'
  /** `-T`: relative TIME(s) column. */
  readonly relative: boolean
}

const HEAD_PLAIN = /^(SEND|RECV) +(\d+) +(.{16}) (\d+):(.*)$/
const HEAD_TIME = /^(\d+\.\d{9}) *(SEND|RECV) +(\d+) +(.{16}) (\d+):(.*)$/

/**
 * FD and NAME after the SOCKET field: `%-5d ` then NAME. `s` starts at the
 * FD digits. Undefined when the padding does not fit (the digits were part
 * of the socket target).
 */
function fdAndName(s: string): { fd: number; name: string } | undefined {
  const digits = /^\d+/.exec(s)?.[0]
  if (digits === undefined) return undefined
  const width = Math.max(5, digits.length) + 1
  const pad = s.slice(digits.length, width)
  if (pad.trim() !== '') return undefined
  // RECV rows end after the padding (often stripped)
  return { fd: Number(digits), name: s.length <= width ? '' : s.slice(width) }
}

/**
 * Splits `<target>` (after `<sockfd>:`) + `%-25s `-padding + FD + NAME.
 * `offset` is the width of `<sockfd>:`: the whole SOCKET field is 25
 * characters when padded, else longer and followed by exactly one space.
 */
function splitSocket(rest: string, offset: number): { target: string; fd: number; name: string } | undefined {
  for (let i = rest.indexOf(' '); i !== -1; i = rest.indexOf(' ', i + 1)) {
    const next = rest.charCodeAt(i + 1)
    if (next < 0x30 || next > 0x39) continue
    const width = offset + i
    if (width < 25) continue
    if (width > 25 && rest[i - 1] === ' ') continue
    const tail = fdAndName(rest.slice(i + 1))
    if (tail) return { target: rest.slice(0, i).trimEnd(), ...tail }
  }
  return undefined
}

function detect(line: string): SofdsnoopLayout | undefined {
  if (!line.includes('SOCKET')) return undefined
  const tokens = line.trim().split(/\s+/)
  const relative = tokens[0] === 'TIME(s)'
  if (tokens.slice(relative ? 1 : 0).join(' ') !== 'ACTION TID COMM SOCKET FD NAME') return undefined
  return { variant: 'python', flags: relative ? ['-T'] : [], relative }
}

function classify(line: string, layout: SofdsnoopLayout, ctx: { partial: boolean }): LineResult {
  const text = widen(line)
  const m = (layout.relative ? HEAD_TIME : HEAD_PLAIN).exec(text)
  const g = layout.relative ? 2 : 1
  const sockFd = m?.[g + 3]
  const split = m && sockFd !== undefined ? splitSocket(m[g + 4] ?? '', sockFd.length + 1) : undefined
  if (!m || !split) {
    const message = commonMessage(line)
    if (message !== undefined) return { kind: 'message', message }
    if (ctx.partial) return { kind: 'bad', reason: 'incomplete sofdsnoop row' }
    return {
      kind: 'bad',
      reason: m
        ? 'sofdsnoop SOCKET is not followed by an FD column (25-wide SOCKET, then FD padded to 5)'
        : `not a sofdsnoop row: expected ${layout.relative ? 'TIME(s), ' : ''}ACTION (SEND/RECV), TID, COMM (16 wide), SOCKET (fd:target), FD and NAME`,
    }
  }
  let time: RecordTime | undefined
  let timeText: string | undefined
  if (layout.relative) {
    timeText = m[1] ?? ''
    time = { kind: 'relative', seconds: Number(timeText), since: 'first_event', decimals: 9 }
  }
  const target = clean(split.target)
  const name = clean(split.name)
  return {
    kind: 'record',
    values: {
      action: m[g] ?? '',
      tid: Number(m[g + 1]),
      pid: null,
      comm: clean(m[g + 2]).trimEnd(),
      sock_fd: Number(sockFd),
      socket: target === 'N/A' || target === '' ? null : target,
      fd: split.fd,
      name: name === 'N/A' || name === '' ? null : name,
    },
    ...(time ? { time } : {}),
    ...(timeText !== undefined ? { timeText } : {}),
  }
}

const sofdsnoop: LogFormat<SofdsnoopLayout> = {
  name: 'sofdsnoop',
  title: 'sofdsnoop',
  description:
    'One row per file descriptor passed over a unix-domain socket (SCM_RIGHTS): SEND for each fd in a sendmsg(), RECV for each fd received (Python bcc tool).',
  url: 'https://github.com/iovisor/bcc/blob/master/tools/sofdsnoop_example.txt',
  columns: [
    { name: 'action', kind: 'text', description: 'SEND (sendmsg) or RECV (recvmsg)' },
    { name: 'tid', kind: 'integer', description: 'thread ID of the caller' },
    { name: 'pid', kind: 'integer', description: 'process ID (tgid): not printed by the tool, always NULL' },
    { name: 'comm', kind: 'text', description: 'task name of the caller (may contain spaces, e.g. `Web Content`)' },
    { name: 'sock_fd', kind: 'integer', description: 'the unix socket\'s descriptor number in the caller (the part of SOCKET before the colon)' },
    { name: 'socket', kind: 'text', description: 'what the socket descriptor pointed to when the row was printed (readlink, e.g. `socket:[39763]`); NULL when the lookup failed (`N/A`)' },
    { name: 'fd', kind: 'integer', description: 'the passed descriptor number (for RECV: its number in the sending process)' },
    { name: 'name', kind: 'text', description: 'SEND rows: what the passed descriptor pointed to (path, `socket:[n]`, `... (deleted)`); NULL on RECV rows and when the lookup failed (`N/A`)' },
  ],
  detect,
  classify,
  samples: [
    {
      header: 'ACTION TID    COMM             SOCKET                    FD    NAME',
      lines: [
        'SEND   2576   Web Content      24:socket:[39763]         51    /dev/shm/org.mozilla.ipc.2576.23874',
        'RECV   2576   Web Content      49:socket:[809997]        51',
        'RECV   2464   Gecko_IOThread   75:socket:[39753]         55',
      ],
    },
    {
      header: 'TIME(s)       ACTION TID    COMM             SOCKET                    FD    NAME',
      lines: [
        '0.000413000   RECV   2576   Web Content      49:/dev/shm/org.mozilla.ipc.2576.25404 (deleted) 51',
        '0.000138000   RECV   2576   Web Content      49:N/A                    5',
      ],
    },
  ],
}

export default sofdsnoop
