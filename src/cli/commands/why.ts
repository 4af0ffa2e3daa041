import { Command } from 'commander'
import { UsageError } from '../../errors.js'
import { openReader } from '../../store/reader.js'
import { sessionsMode, why, type WhyOptions } from '../../why/index.js'
import { renderWhy } from '../../why/render.js'
import { compareWhy, renderVs } from '../../why/vs.js'
import { dbOption, isTty, type CommonFlags } from '../common.js'

interface WhyFlags extends CommonFlags {
  capture?: string
  vs?: string
  captureB?: string
  sessions?: string
  top: string
  maxSessions: string
  queries: string[]
  json?: boolean
}

function pidArg(text: string, what: string): number {
  if (!/^\d+$/.test(text)) {
    throw new UsageError(`${what} must be a process ID (a number), got "${text}"`, {
      hint: 'e.g. tracedb why 8852, or tracedb why 8852 --vs 9001 --capture-b after',
    })
  }
  return Number(text)
}

export function whyCommand(): Command {
  return dbOption(
    new Command('why')
      .description(
        'Where the time of the process tree under PID goes, said plainly: per session (PID itself, and each direct child when PID is a server such as an sshd listener) its wall time, the subtrees ranked by the wall time they cover with their share, the critical path, the processes with the most self time, the executables run repeatedly and, when runqslower was captured, the time its processes waited for a CPU. Every figure is a row of a named query: time-split, critical-path, self-time, repeats, runq-wait.',
      )
      .argument('<pid>', 'root process ID (e.g. the sshd listener, or one session)')
      .option('-c, --capture <name>', 'capture to read (default: the most recently ingested)')
      .option('--vs <pid>', 'compare with the tree under this PID, side by side, subtrees matched by command')
      .option('-b, --capture-b <name>', 'capture of the --vs PID (default: the same as --capture)')
      .option('--sessions <mode>', 'auto (PID\'s direct children when PID is a server, else PID), children or root', 'auto')
      .option('--top <n>', 'self-time, repeat and run-queue rows per session', '5')
      .option('--max-sessions <n>', 'print at most N sessions (in start order; --json has them all)', '10')
      .option('--queries <dir>', 'also read named queries from DIR (repeatable; may override the five)', (v: string, prev: string[]) => [...prev, v], [] as string[])
      .option('--json', 'print the answer as JSON (see README: "tracedb why")')
      .addHelpText(
        'after',
        `
How it counts:
  A subtree covers the union of its processes' lifetimes within the session,
  so nested and concurrent processes are not added up twice. A process with
  no exit seen counts to its session's end; a session with no exit seen to
  the last instant of the capture. Self time is a lifetime minus the union of
  its children's lifetimes.

Examples:
  $ tracedb why 8852
  $ tracedb why 8852 --json
  $ tracedb why 8852 --capture before --vs 9001 --capture-b after
  $ tracedb query time-split 8852        # the figures behind "where the time goes"`,
      ),
  ).action(async (pidText: string, flags: WhyFlags) => {
    const pid = pidArg(pidText, 'PID')
    const top = /^\d+$/.test(flags.top) ? Number(flags.top) : NaN
    if (!Number.isInteger(top) || top < 1) {
      throw new UsageError(`--top must be a positive whole number, got "${flags.top}"`, { hint: 'e.g. --top 10' })
    }
    const maxSessions = /^\d+$/.test(flags.maxSessions) ? Number(flags.maxSessions) : NaN
    if (!Number.isInteger(maxSessions) || maxSessions < 1) {
      throw new UsageError(`--max-sessions must be a positive whole number, got "${flags.maxSessions}"`, { hint: 'e.g. --max-sessions 50' })
    }
    if (flags.captureB !== undefined && flags.vs === undefined) {
      throw new UsageError('--capture-b needs --vs PID', { hint: 'e.g. tracedb why 8852 --capture before --vs 9001 --capture-b after' })
    }
    const sessions = sessionsMode(flags.sessions)
    const reader = await openReader(flags.db)
    try {
      const base: Omit<WhyOptions, 'pid' | 'capture'> = { sessions, top, queries: flags.queries }
      const a = await why(reader, { ...base, pid, capture: flags.capture })
      const color = isTty(process.stdout)
      if (flags.vs === undefined) {
        process.stdout.write(flags.json ? JSON.stringify(a, null, 2) + '\n' : renderWhy(a, { color, maxSessions }))
        return
      }
      const pidB = pidArg(flags.vs, '--vs')
      const b = await why(reader, { ...base, pid: pidB, capture: flags.captureB ?? a.capture.name })
      const v = compareWhy(a, b)
      process.stdout.write(flags.json ? JSON.stringify(v, null, 2) + '\n' : renderVs(v, { color }))
    } finally {
      await reader.close()
    }
  })
}
