// https://github.com/iovisor/bcc/blob/master/tools/killsnoop_example.txt
import { commonMessage } from './messages.js'
import type { Layout, LineResult, LogFormat } from './types.js'
import { clean, widen } from './widths.js'

/**
 * killsnoop (Python bcc) and libbpf-tools sigsnoop / killsnoop (a symlink to
 * sigsnoop that traces kill() only): one row per signal sent.
 *
 * - Python: `%-9s %-*d %-16s %-4d %-*d %d` TIME PID COMM SIG TPID RESULT,
 *   PID/TPID width from pid_max; SIG always numeric. Header `TIME` + 6 spaces.
 * - libbpf <= 0.33: `%-8s %-7d %-16s %-9d|%-9s %-7d %-6d` (RESULT padded:
 *   trailing spaces). SIG is a number, or with -n a name (`SIGKILL`), `N/A`
 *   for signal 0, a number for signals without a name.
 * - libbpf >= 0.34: SIG 12 wide and a TCOMM `%-16s` column before RESULT
 *   (empty when unknown); names 32..64 print as `SIGNAL-N`.
 */
export interface KillsnoopLayout extends Layout {
  readonly variant: 'python' | 'libbpf' | 'libbpf-0.34'
  /** TCOMM column (libbpf >= 0.34). */
  readonly tcomm: boolean
}

const ROW_PYTHON = /^(\d{2}):(\d{2}):(\d{2}) +(\d+) +(.{16}) (-?\d+) +(-?\d+) +(-?\d+) *$/
const ROW_LIBBPF = /^(\d{2}):(\d{2}):(\d{2}) (\d+) +(.{16}) (\S+) +(-?\d+) +(-?\d+) *$/
const ROW_LIBBPF_TCOMM = /^(\d{2}):(\d{2}):(\d{2}) (\d+) +(.{16}) (\S+) +(-?\d+) +(.{16}) (-?\d+) *$/

/** Linux signal names 1..31 as sigsnoop prints them (x86/arm numbering). */
const SIGNALS = [
  'N/A', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1',
  'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP',
  'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS',
] as const
const SIGNAL_NUMBERS = new Map<string, number>(SIGNALS.map((name, i) => [name, i]))

/** SIG as printed → number and name (NULL name for signal 0 and real-time signals). */
function signal(text: string): { sig: number | null; name: string | null } | undefined {
  if (/^\d+$/.test(text)) {
    const sig = Number(text)
    return { sig, name: sig > 0 ? (SIGNALS[sig] ?? null) : null }
  }
  const known = SIGNAL_NUMBERS.get(text)
  if (known !== undefined) return { sig: known, name: known === 0 ? null : text }
  const rt = /^SIGNAL-(\d+)$/.exec(text)
  if (rt) return { sig: Number(rt[1]), name: null }
  if (/^SIG[A-Z0-9+-]+$/.test(text)) return { sig: null, name: text }
  return undefined
}

function detect(line: string): KillsnoopLayout | undefined {
  if (!line.includes('TPID')) return undefined
  const tokens = line.trim().split(/\s+/).join(' ')
  if (tokens === 'TIME PID COMM SIG TPID TCOMM RESULT') return { variant: 'libbpf-0.34', flags: [], tcomm: true }
  if (tokens !== 'TIME PID COMM SIG TPID RESULT') return undefined
  return { variant: line.startsWith('TIME      PID') ? 'python' : 'libbpf', flags: [], tcomm: false }
}

function classify(line: string, layout: KillsnoopLayout, ctx: { partial: boolean }): LineResult {
  const re = layout.variant === 'python' ? ROW_PYTHON : layout.tcomm ? ROW_LIBBPF_TCOMM : ROW_LIBBPF
  const m = re.exec(widen(line))
  const sig = m ? signal(m[6] ?? '') : undefined
  if (!m || !sig) {
    const message = commonMessage(line)
    if (message !== undefined) return { kind: 'message', message }
    if (ctx.partial) return { kind: 'bad', reason: 'incomplete killsnoop row' }
    if (m) return { kind: 'bad', reason: `unknown SIG "${m[6] ?? ''}": expected a number, a SIG name or N/A` }
    return {
      kind: 'bad',
      reason: `not a killsnoop row: expected TIME (HH:MM:SS), PID, COMM (16 wide), SIG, TPID${layout.tcomm ? ', TCOMM (16 wide)' : ''} and RESULT`,
    }
  }
  const tcomm = layout.tcomm ? clean(m[8]).trim() : ''
  return {
    kind: 'record',
    values: {
      pid: Number(m[4]),
      comm: clean(m[5]).trimEnd(),
      sig: sig.sig,
      sig_name: sig.name,
      tpid: Number(m[7]),
      tcomm: tcomm === '' ? null : tcomm,
      result: Number(m[layout.tcomm ? 9 : 8]),
    },
    time: { kind: 'clock', hour: Number(m[1]), minute: Number(m[2]), second: Number(m[3]), utc: false },
    timeText: line.slice(0, 8),
  }
}

const killsnoop: LogFormat<KillsnoopLayout> = {
  name: 'killsnoop',
  title: 'killsnoop / sigsnoop',
  description:
    'One row per signal sent: by kill() (Python killsnoop, libbpf killsnoop) or any signal the kernel delivers, SIGCHLD and faults included (libbpf sigsnoop).',
  url: 'https://github.com/iovisor/bcc/blob/master/tools/killsnoop_example.txt',
  columns: [
    { name: 'pid', kind: 'integer', description: 'process ID (tgid) of the sender (for kernel-generated signals, the task that caused them)' },
    { name: 'comm', kind: 'text', description: 'task name of the sender' },
    { name: 'sig', kind: 'integer', description: 'signal number (from the name with -n; 0 for N/A, the existence probe)' },
    { name: 'sig_name', kind: 'text', description: 'signal name (SIGTERM, SIGKILL, ...) for signals 1-31, as printed (-n) or from the number; NULL for signal 0 and real-time signals' },
    { name: 'tpid', kind: 'integer', description: 'target PID as passed to kill(): negative for a process group, 0 for the caller\'s group' },
    { name: 'tcomm', kind: 'text', description: 'task name of the target (libbpf >= 0.34); NULL when unknown or not printed' },
    { name: 'result', kind: 'integer', description: '0 on success or a negative errno (-3 ESRCH, -1 EPERM)' },
  ],
  detect,
  classify,
  samples: [
    {
      header: 'TIME      PID    COMM             SIG  TPID   RESULT',
      lines: ['12:10:51  13967  bash             9    13885  0', '12:11:34  13967  bash             9    1024   -3'],
    },
    {
      header: 'TIME     PID     COMM             SIG       TPID    RESULT',
      lines: [
        '03:38:29 19482   tdb-killer       0         19523   0     ',
        '03:38:29 19482   tdb-killer       9         3999999 -3    ',
        '03:38:35 19572   tdb-killer       N/A       19613   0     ',
        '03:38:46 19753   bash             SIGCHLD   19752   0     ',
        '19:56:14 3204808 a.out            SIGSEGV   3204808 0',
      ],
    },
  ],
}

export default killsnoop
