/**
 * `why` for people: one block per session, read top down. Every figure is a
 * row of a named query (see index.ts); this file only words them. Text from
 * the logs (commands, arguments) is escaped here, through `escapeControls`.
 */
import pc from 'picocolors'
import { escapeControls } from '../cli/sanitize.js'
import type { WhyProcess, WhyResult, WhySession } from './index.js'

export interface RenderOptions {
  readonly color?: boolean
  /** At most this many session blocks (and a server's sessions listed), default 10. */
  readonly maxSessions?: number
  /** Longest command shown (longer ones keep their start and end). */
  readonly width?: number
}

/** A share as a whole percentage: 0.672 -> "67%"; below 0.5% but not 0 -> "<1%". */
export function percent(share: number | null): string {
  if (share === null) return '?'
  const p = Math.round(share * 100)
  return p === 0 && share > 0 ? '<1%' : `${String(p)}%`
}

/**
 * A command cut to `max` characters, keeping its start and its end (where
 * `sh -c ...` says what it runs), escaped for a terminal.
 */
export function shortCommand(raw: string, max = 60): string {
  const chars = [...raw]
  if (chars.length <= max) return escapeControls(raw)
  const head = Math.ceil((max - 1) * 0.45)
  const tail = max - 1 - head
  return `${escapeControls(chars.slice(0, head).join(''))}…${escapeControls(chars.slice(chars.length - tail).join(''))}`
}

/**
 * A command line as a person names it: `sh -c` and `env -i VAR=...`
 * wrappers dropped, so `/bin/sh -c /usr/bin/env -i PATH=/usr/bin run-parts
 * /etc/update-motd.d` reads `sh -c run-parts /etc/update-motd.d`. For
 * display only: `--json` keeps the command as exec'd.
 */
export function readableCommand(command: string): string {
  const shell = /^(?:\S*\/)?(sh|bash|dash|zsh) -c (.+)$/s.exec(command)
  if (!shell) return command
  const inner = (shell[2] ?? '').replace(/^(?:\S*\/)?env(?: -i)?(?: [A-Za-z_][A-Za-z0-9_]*=\S*)* /, '')
  return `${shell[1] ?? 'sh'} -c ${inner}`
}

/** "bash 8864" or "sshd 8859 (fork)"; with the arguments when they say more than the name. */
export function label(p: WhyProcess, width = 72, withArgs = true): string {
  const name = escapeControls(p.comm ?? '?')
  const base = `${name} ${String(p.pid)}${p.fork ? ' (fork)' : ''}`
  if (!withArgs || p.fork || p.command === '' || p.command === p.comm) return base
  return `${base}: ${shortCommand(readableCommand(p.command), width)}`
}

/** The root's name: "pid 8852, started before the capture" when it was never seen starting. */
export function rootLabel(s: WhySession, width = 72): string {
  if (s.started_before_capture) return `pid ${String(s.pid)}, started before the capture${s.comm ? ` (${escapeControls(s.comm)})` : ''}`
  return label(s, width)
}

const ms = (n: number): string => `${String(n)} ms`
const plural = (n: number, one: string, many: string): string => `${String(n)} ${n === 1 ? one : many}`

function sessionBlock(s: WhySession, heading: string, o: Required<RenderOptions>, runqCaptured: boolean, server: boolean): string[] {
  const b = (t: string): string => (o.color ? pc.bold(t) : t)
  const dim = (t: string): string => (o.color ? pc.dim(t) : t)
  const out: string[] = []
  const wallNote = s.running_at_end ? ', to the end of the capture (no exit seen)' : ''
  const startNote = s.started_before_capture ? ', from the start of the capture' : ''
  out.push(b(`${heading}: ${rootLabel(s, o.width)}`))
  out.push(`  wall time ${ms(s.wall_ms)}${startNote}${wallNote}, ${plural(s.processes, 'process', 'processes')}`)
  if (server && s.across.length > 0) {
    out.push('  across its sessions, by command (ms summed over the sessions):')
    for (const a of s.across) {
      out.push(`    ${escapeControls(a.comm)}: ${ms(a.ms)} of ${ms(a.of_ms)} (${percent(a.share)}) ${dim(`in ${plural(a.sessions, 'session', 'sessions')}, ${plural(a.processes, 'process', 'processes')}`)}`)
    }
  }
  if (s.subtrees.length > 0) {
    out.push(server ? '  its sessions, by the wall time they cover:' : '  where the time goes (wall time each subtree covers):')
    const shown = server ? s.subtrees.slice(0, o.maxSessions) : s.subtrees
    for (const t of shown) {
      out.push(`    ${label(t, o.width)}: ${ms(t.ms)} of ${ms(s.wall_ms)} (${percent(t.share)}) ${dim(plural(t.processes, 'process', 'processes'))}`)
    }
    if (shown.length < s.subtrees.length) {
      out.push(`    … ${plural(s.subtrees.length - shown.length, 'more session', 'more sessions')} (--max-sessions ${String(s.subtrees.length)} lists them all)`)
    }
    out.push(`    ${escapeControls(s.comm ?? `pid ${String(s.pid)}`)} itself, ${server ? 'no session running' : 'none of its subtrees running'}: ${ms(s.itself_ms)} (${percent(s.itself_share)})`)
  } else {
    out.push('  no child processes: the time is its own')
  }
  // a server's critical path and self time run through its longest session: shown there
  if (!server && s.critical_path.length > 1) {
    out.push('  critical path (at each level the child covering most of its parent):')
    s.critical_path.forEach((step, i) => {
      if (i === 0) {
        out.push(`    ${label(step, o.width, false)} ${ms(step.ms)}`)
        return
      }
      out.push(`    ${'  '.repeat(i - 1)}└ ${label(step, o.width)} ${ms(step.ms)} ${dim(`(${percent(step.of_parent)} of its parent)`)}`)
    })
  }
  if (!server && s.self.length > 0) {
    out.push('  self time (lifetime with none of its children running):')
    for (const p of s.self) {
      out.push(`    ${label(p, o.width)}: ${ms(p.ms)} ${dim(`of ${ms(p.lifetime_ms)} alive`)}`)
    }
  }
  if (s.repeats.length > 0) {
    out.push(server ? '  run repeatedly, in all its sessions:' : '  run repeatedly:')
    for (const r of s.repeats) {
      const what = r.seen === 'fork' ? `${escapeControls(r.executable)} (forks without exec)` : escapeControls(r.executable)
      out.push(`    ${what} ×${String(r.runs)}: ${ms(r.total_ms)} in total, longest ${ms(r.max_ms)}`)
    }
  }
  if (!runqCaptured) {
    out.push(`  run-queue wait: ${dim('runqslower not captured')}`)
  } else if (s.runq) {
    if (s.runq.waits === 0) {
      out.push('  run-queue wait: none above runqslower\'s threshold')
    } else {
      out.push(
        `  run-queue wait: ${plural(s.runq.processes, 'process', 'processes')} waited ${String(round1(s.runq.wait_ms))} ms for a CPU (${String(s.runq.waits)} waits, longest ${String(round1(s.runq.max_ms ?? 0))} ms)`,
      )
      for (const p of s.runq.top) {
        out.push(`    ${label(p, o.width)}: ${String(round1(p.wait_ms))} ms ${dim(`in ${String(p.waits)} waits`)}`)
      }
    }
  }
  return out
}

/** ms with one decimal, as printed. */
export function round1(n: number): number {
  return Math.round(n * 10) / 10
}

/** The whole answer as text. */
export function renderWhy(w: WhyResult, options: RenderOptions = {}): string {
  const o: Required<RenderOptions> = { color: options.color ?? false, width: options.width ?? 72, maxSessions: options.maxSessions ?? 10 }
  const out: string[] = [escapeControls(`why pid ${String(w.pid)}, capture "${w.capture.name}"`), '']
  const rootIsSession = !w.server
  for (const r of w.roots) {
    out.push(...sessionBlock(r, rootIsSession ? 'session (the root)' : 'root', o, w.runq_captured, !rootIsSession), '')
  }
  if (!rootIsSession) {
    w.sessions.slice(0, o.maxSessions).forEach((s, i) => {
      out.push(...sessionBlock(s, `session ${String(i + 1)} of ${String(w.sessions.length)}`, o, w.runq_captured, false), '')
    })
    if (w.sessions.length > o.maxSessions) {
      out.push(
        `… ${plural(w.sessions.length - o.maxSessions, 'more session', 'more sessions')} in start order (--max-sessions ${String(w.sessions.length)} shows them all, --json has them all)`,
        '',
      )
    }
  }
  out.push(
    o.color
      ? pc.dim('(figures: tracedb query time-split|critical-path|self-time|repeats|runq-wait PID; --json for all of them)')
      : '(figures: tracedb query time-split|critical-path|self-time|repeats|runq-wait PID; --json for all of them)',
  )
  return out.join('\n') + '\n'
}
