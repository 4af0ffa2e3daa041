// https://github.com/iovisor/bcc/blob/master/tools/shmsnoop_example.txt
import { commonMessage } from './messages.js'
import type { Layout, LineResult, LogFormat, RecordTime } from './types.js'
import { clean, widen } from './widths.js'

/**
 * shmsnoop (Python bcc only; no libbpf-tools version): one row per System V
 * shared-memory syscall. Row: optional `%-14.9f` TIME(s) without a separator
 * (seconds since the first event), `%-6d %-16s %6s %16lx ` PID|TID, COMM,
 * SYS (right-aligned), RET (unsigned hex without 0x), then the ARGs text.
 */
export interface ShmsnoopLayout extends Layout {
  readonly variant: 'python'
  /** `-T`: relative TIME(s) column. */
  readonly relative: boolean
  /** `-t`: the id column is a thread id. */
  readonly tid: boolean
}

const regexCache = new Map<string, RegExp>()

function rowRegex(l: ShmsnoopLayout): RegExp {
  const key = String(l.relative)
  let re = regexCache.get(key)
  if (!re) {
    let src = '^'
    if (l.relative) src += '(\\d+\\.\\d{9}) *'
    src += '(\\d+) +(.{16}) +(SHMGET|SHMAT|SHMDT|SHMCTL|N/A) +([0-9a-f]+)(?: (.*))?$'
    re = new RegExp(src)
    regexCache.set(key, re)
  }
  return re
}

/** RET is an unsigned 64-bit value in hex: as a signed number (errors negative), NULL when not exact. */
function signedHex(hex: string): number | null {
  if (hex.length > 16) return null
  const n = Number(BigInt.asIntN(64, BigInt(`0x${hex}`)))
  return Number.isSafeInteger(n) ? n : null
}

const SHMID_ARG = /(?:^|, )shmid: 0x([0-9a-f]+)/

function detect(line: string): ShmsnoopLayout | undefined {
  if (!line.includes('ARGs')) return undefined
  const tokens = line.trim().split(/\s+/)
  let i = 0
  const relative = tokens[i] === 'TIME(s)' ? (i++, true) : false
  const id = tokens[i++]
  if (id !== 'PID' && id !== 'TID') return undefined
  if (tokens.slice(i).join(' ') !== 'COMM SYS RET ARGs') return undefined
  const tid = id === 'TID'
  const flags = [relative && '-T', tid && '-t'].filter((f): f is string => typeof f === 'string')
  return { variant: 'python', flags, relative, tid }
}

function classify(line: string, layout: ShmsnoopLayout, ctx: { partial: boolean }): LineResult {
  const text = widen(line)
  const m = rowRegex(layout).exec(text)
  if (!m) {
    const message = commonMessage(line)
    if (message !== undefined) return { kind: 'message', message }
    return {
      kind: 'bad',
      reason: ctx.partial
        ? 'incomplete shmsnoop row'
        : `not a shmsnoop row: expected ${layout.relative ? 'TIME(s), ' : ''}${layout.tid ? 'TID' : 'PID'}, COMM (16 wide), SYS (SHMGET/SHMAT/SHMDT/SHMCTL), RET (hex) and ARGs`,
    }
  }
  let g = 1
  let time: RecordTime | undefined
  let timeText: string | undefined
  if (layout.relative) {
    timeText = m[g++] ?? ''
    time = { kind: 'relative', seconds: Number(timeText), since: 'first_event', decimals: 9 }
  }
  const id = Number(m[g++])
  const comm = clean(m[g++]).trimEnd()
  const sys = m[g++] ?? ''
  const ret = m[g++] ?? ''
  const args = clean(m[g]).trimEnd()
  const retValue = signedHex(ret)
  let shmid: number | null = null
  if (sys === 'SHMGET') shmid = retValue !== null && retValue >= 0 ? retValue : null
  else if (sys === 'SHMAT' || sys === 'SHMCTL') {
    const s = SHMID_ARG.exec(args)
    if (s) shmid = Number.parseInt(s[1] ?? '', 16)
  }
  return {
    kind: 'record',
    values: {
      pid: layout.tid ? null : id,
      tid: layout.tid ? id : null,
      comm,
      sys: sys === 'N/A' ? null : sys,
      ret,
      ret_value: retValue,
      shmid,
      args,
    },
    ...(time ? { time } : {}),
    ...(timeText !== undefined ? { timeText } : {}),
  }
}

const shmsnoop: LogFormat<ShmsnoopLayout> = {
  name: 'shmsnoop',
  title: 'shmsnoop',
  description:
    'One row per System V shared-memory syscall (shmget, shmat, shmdt, shmctl) with its return value and decoded arguments (Python bcc tool).',
  url: 'https://github.com/iovisor/bcc/blob/master/tools/shmsnoop_example.txt',
  columns: [
    { name: 'pid', kind: 'integer', description: 'process ID (tgid); NULL with -t, which prints thread IDs' },
    { name: 'tid', kind: 'integer', description: 'thread ID (-t)' },
    { name: 'comm', kind: 'text', description: 'task name of the caller' },
    { name: 'sys', kind: 'text', description: 'the syscall: SHMGET, SHMAT, SHMDT or SHMCTL; NULL when the tool printed N/A' },
    { name: 'ret', kind: 'text', description: 'return value as printed: unsigned 64-bit hexadecimal without 0x (10000 is 0x10000)' },
    { name: 'ret_value', kind: 'integer', description: 'RET as a signed 64-bit number: shmid (shmget), attach address (shmat), 0, or a negative errno on failure' },
    { name: 'shmid', kind: 'integer', description: 'the segment ID: returned by a successful shmget, the shmid argument of shmat/shmctl' },
    { name: 'args', kind: 'text', description: 'decoded arguments as printed, comma-separated `name: value` pairs depending on the syscall' },
  ],
  detect,
  classify,
  samples: [
    {
      header: 'PID    COMM                SYS              RET ARGs',
      lines: [
        '19813  server           SHMGET            10000 key: 0x78020001, size: 20, shmflg: 0x3b6 (IPC_CREAT|0666)',
        '19813  server            SHMAT     7f1cf8b1f000 shmid: 0x10000, shmaddr: 0x0, shmflg: 0x0',
        '19813  server           SHMCTL                0 shmid: 0x10000, cmd: 0 (IPC_RMID), buf: 0x0',
      ],
    },
    {
      header: 'TIME(s)       PID    COMM                SYS              RET ARGs',
      lines: ['0.563194000   19825  server            SHMDT                0 shmaddr: 0x7f74362e4000'],
    },
  ],
}

export default shmsnoop
