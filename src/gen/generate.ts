import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs'
import { join } from 'node:path'

/**
 * A deterministic generator of realistic tool logs, for benchmarks and for
 * checking tracedb's answers against a known truth: a forest of process
 * trees (daemons forking sessions that fork and exec, ~30% forks without
 * exec, failed execs, double execs, PID reuse after wrap-around at pid_max,
 * 7-digit PIDs), written as execsnoop and exitsnoop logs (libbpf-tools or
 * Python bcc layouts), plus opensnoop noise and tcpstates/tcplife logs
 * of sshd's connections.
 */

export interface GenerateOptions {
  readonly processes: number
  readonly seed?: number
  /** `libbpf` (default) or `python` layouts. */
  readonly variant?: 'libbpf' | 'python'
  readonly pidMax?: number
  /** Opensnoop rows per process (noise); 0 for none. */
  readonly opensPerProcess?: number
  /** tcpstates and tcplife logs of sshd's connections (default true). */
  readonly tcp?: boolean
  /** Wall-clock start of the capture, UTC. */
  readonly start?: Date
}

export interface TruthRoot {
  readonly name: string
  readonly pid: number
  /** Descendant instances of every instance of `pid`, as `pid@startMs`. */
  readonly descendants: number
  readonly pids: readonly number[]
}

export interface Truth {
  readonly processes: number
  readonly execLines: number
  readonly exitLines: number
  readonly date: string
  readonly tz: 'UTC'
  readonly roots: readonly TruthRoot[]
  /** The server-side ssh connections (port 22) of sshd's sessions. */
  readonly connections: readonly TruthConnection[]
}

export interface TruthConnection {
  /** PID of the session (sshd's child) that served it */
  readonly session: number
  readonly rport: number
  readonly handshakeMs: number
  /** null: still open at the end of the capture */
  lifetimeMs: number | null
}

interface Proc {
  id: number
  parent: Proc | null
  pid: number
  start: number // ms since capture start
  exit: number | null // null: outlives the capture
  execs: { at: number; comm: string; args: string; ret: number }[]
  comm: string // comm at fork (parent's comm)
  exitCode: string
  children: Proc[]
  daemon: boolean
}

/** mulberry32: small, fast, deterministic. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const COMMANDS: readonly [string, string][] = [
  ['id', '/usr/bin/id -u'],
  ['uname', '/usr/bin/uname -a'],
  ['cat', '/usr/bin/cat /etc/motd'],
  ['grep', '/usr/bin/grep -q pattern /etc/passwd'],
  ['sed', '/usr/bin/sed -e s/a/b/ /tmp/input'],
  ['ls', '/usr/bin/ls --color=auto /var/log'],
  ['run-parts', '/usr/bin/run-parts --lsbsysinit /etc/update-motd.d'],
  ['00-header', '/etc/update-motd.d/00-header'],
  ['cc1', '/usr/lib/gcc/x86_64-linux-gnu/12/cc1 -quiet main.c -o /tmp/cc.s'],
  ['as', '/usr/bin/as --64 -o main.o /tmp/cc.s'],
  ['make', '/usr/bin/make -j2 all'],
  ['python3', '/usr/bin/python3 -c import sys'],
]

/**
 * Generates a capture into `dir`: execsnoop.log, exitsnoop.log,
 * opensnoop.log (when opens > 0) and truth.json. Returns the truth.
 */
export async function generate(dir: string, options: GenerateOptions): Promise<Truth> {
  const rand = rng(options.seed ?? 1)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T
  const n = Math.max(10, options.processes)
  const pidMax = options.pidMax ?? 4_194_304
  const startDate = options.start ?? new Date(Date.UTC(2026, 10, 28, 9, 0, 0))
  const variant = options.variant ?? 'libbpf'
  const procs: Proc[] = []
  // The capture spans about n / 300 seconds (300 new processes per second).
  const span = Math.max(60_000, Math.round((n / 300) * 1000))

  const make = (parent: Proc | null, start: number, exit: number | null, daemon = false): Proc => {
    const p: Proc = {
      id: procs.length,
      parent,
      pid: 0,
      start,
      exit,
      execs: [],
      comm: parent ? (parent.execs.at(-1)?.comm ?? parent.comm) : 'init',
      exitCode: '0',
      children: [],
      daemon,
    }
    procs.push(p)
    parent?.children.push(p)
    return p
  }

  // Daemons are alive for the whole capture; they are seen only as PPIDs.
  const sshd = make(null, -3_600_000, null, true)
  sshd.comm = 'sshd'
  const buildd = make(null, -3_600_000, null, true)
  buildd.comm = 'buildd'
  const cron = make(null, -3_600_000, null, true)
  cron.comm = 'cron'

  /** A subtree of about `size` processes under `parent`, within [t0, t1]. */
  const grow = (parent: Proc, size: number, t0: number, t1: number, depth: number): void => {
    let left = size
    // children live inside their parent's life (a process that outlives its
    // parent and never execs would be reparented and unknowable)
    if (t1 - t0 < 2) return
    while (left > 0 && procs.length < n + 3) {
      const start = t0 + rand() * (t1 - t0) * 0.8
      const forkOnly = rand() < 0.3
      // Some exec'd processes outlive the capture (no exit line); a process
      // that never execs always exits inside it, or it would be invisible.
      const outlives = !forkOnly && rand() < 0.01
      const life = Math.min(t1 - start, 1 + rand() * Math.max(5, (t1 - start) * 0.9))
      const child = make(parent, start, outlives ? null : Math.min(t1, start + Math.max(1, life)))
      left--
      if (!forkOnly) {
        const [comm, args] = pick(COMMANDS)
        const at = start + 0.2 + rand() * 2
        if (rand() < 0.03) child.execs.push({ at, comm: child.comm, args: '/nonexistent/binary --flag', ret: -2 })
        child.execs.push({ at: at + 0.1, comm, args, ret: 0 })
        if (rand() < 0.05) child.execs.push({ at: at + 1, comm: 'sh', args: '/bin/sh -c true', ret: 0 })
      }
      if (child.exit !== null) {
        const r = rand()
        child.exitCode = r < 0.9 ? '0' : r < 0.97 ? `code ${String(1 + Math.floor(rand() * 3))}` : 'signal 9 (Killed)'
      }
      const sub = depth < 6 && left > 0 ? Math.min(left, Math.floor(rand() * rand() * Math.min(left, 40))) : 0
      if (sub > 0) {
        grow(child, sub, start + 1, (child.exit ?? t1) - 1, depth + 1)
        left -= sub
      }
    }
  }

  const budget = n
  // One giant build session (~10%), ssh sessions of ~100, cron jobs of 1-5.
  const buildSize = Math.floor(budget * 0.1)
  const buildLeader = make(buildd, 10, span - 10)
  buildLeader.execs.push({ at: 11, comm: 'make', args: '/usr/bin/make -j2 world', ret: 0 })
  grow(buildLeader, buildSize - 1, 20, span - 20, 1)
  while (procs.length < n + 3) {
    const r = rand()
    const start = rand() * (span - 20_000)
    if (r < 0.5) {
      // an ssh login: a privilege-separated sshd child (fork only), then a shell
      const life = 2_000 + rand() * 15_000
      const leader = make(sshd, start, start + life)
      const shell = make(leader, start + 50, start + life - 10)
      shell.execs.push({ at: start + 52, comm: 'bash', args: '/bin/bash -l', ret: 0 })
      grow(shell, 60 + Math.floor(rand() * 80), start + 60, start + life - 20, 2)
    } else {
      const life = 100 + rand() * 3_000
      const job = make(cron, start, start + life)
      job.execs.push({ at: start + 1, comm: 'sh', args: '/bin/sh -c /usr/local/bin/job', ret: 0 })
      grow(job, Math.floor(rand() * 5), start + 2, start + life - 2, 2)
    }
  }

  // PIDs in start order, wrapping at pid_max and skipping live ones.
  const daemons = procs.filter((p) => p.daemon)
  daemons.forEach((p, i) => (p.pid = 1000 + i))
  const live = new Set<number>(daemons.map((p) => p.pid))
  const byStart = procs.filter((p) => !p.daemon).sort((a, b) => a.start - b.start || a.id - b.id)
  const ending: { at: number; pid: number }[] = [] // min-heap by `at`
  const push = (e: { at: number; pid: number }): void => {
    ending.push(e)
    let i = ending.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if ((ending[parent]?.at ?? 0) <= e.at) break
      ending[i] = ending[parent]!
      i = parent
    }
    ending[i] = e
  }
  const pop = (): void => {
    const last = ending.pop()
    if (!last || ending.length === 0) return
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      const at = (k: number): number => ending[k]?.at ?? Infinity
      if (l < ending.length && at(l) < (m === i ? last.at : at(m))) m = l
      if (r < ending.length && at(r) < (m === i ? last.at : at(m))) m = r
      if (m === i) break
      ending[i] = ending[m]!
      i = m
    }
    ending[i] = last
  }
  // Start near the top so the run shows 7-digit PIDs and wraps around.
  let next = Math.max(300, pidMax - Math.floor(n / 3))
  for (const p of byStart) {
    // free PIDs of processes that exited (with a margin: the kernel does not
    // reuse a PID the instant it is freed, and tools print in batches)
    while (ending.length > 0 && (ending[0]?.at ?? Infinity) < p.start - 5_000) {
      live.delete(ending[0]!.pid)
      pop()
    }
    let guard = 0
    while (live.has(next)) {
      next = next + 1 >= pidMax ? 300 : next + 1
      if (++guard > pidMax) throw new Error('pid space exhausted; raise pidMax')
    }
    p.pid = next
    live.add(next)
    push({ at: p.exit ?? Infinity, pid: next })
    next = next + 1 >= pidMax ? 300 : next + 1
  }

  // Events, printed in time order (print time = event time + a few ms).
  type Ev = { at: number; line: string }
  const execEvents: Ev[] = []
  const exitEvents: Ev[] = []
  const clock = (ms: number, millis: boolean): string => {
    const d = new Date(startDate.getTime() + Math.floor(ms))
    const s = d.toISOString().slice(11, millis ? 23 : 19)
    return s
  }
  const pad = (v: string | number, w: number): string => String(v).padEnd(w)
  for (const p of procs) {
    if (p.daemon) continue
    const ppid = p.parent?.pid ?? 0
    for (const e of p.execs) {
      const printed = e.at + 3
      const time = clock(printed, false)
      const comm = (e.ret === 0 ? e.comm : (p.execs.find((x) => x.at < e.at)?.comm ?? p.comm)).slice(0, 15)
      const line =
        variant === 'libbpf'
          ? `${pad(time, 8)} ${pad(0, 6)}${pad(comm, 16)} ${pad(p.pid, 6)} ${pad(ppid, 6)} ${String(e.ret).padStart(3)} ${e.args} `
          : `${pad(time, 9)}${pad(0, 6)}${pad(comm, 16)} ${pad(p.pid, 7)} ${pad(ppid, 7)} ${String(e.ret).padStart(3)} ${e.args}`
      execEvents.push({ at: printed, line })
    }
    if (p.exit !== null && p.exit < span) {
      const printed = p.exit + 4
      const comm = (p.execs.filter((e) => e.ret === 0).at(-1)?.comm ?? p.comm).slice(0, 15)
      const age = ((p.exit - p.start) / 1000).toFixed(2)
      // exitsnoop reports the parent at exit time: orphans are reparented
      const parentAlive = p.parent && (p.parent.exit === null || p.parent.exit >= p.exit)
      const exitPpid = parentAlive ? ppid : 1
      const line =
        variant === 'libbpf'
          ? `${clock(printed, false).padStart(8)} ${pad(comm, 16)} ${pad(p.pid, 7)} ${pad(exitPpid, 7)} ${pad(p.pid, 7)} ${pad(age, 7)} ${p.exitCode}`
          : `${pad(clock(printed, true), 13)}${pad(comm, 16)} ${pad(p.pid, 7)} ${pad(exitPpid, 7)} ${pad(p.pid, 7)} ${pad(age, 7)} ${p.exitCode.replace('(Killed)', '(KILL)')} `
      exitEvents.push({ at: printed, line })
    } else {
      p.exit = null
    }
  }
  execEvents.sort((a, b) => a.at - b.at)
  exitEvents.sort((a, b) => a.at - b.at)

  mkdirSync(dir, { recursive: true })
  const write = async (name: string, header: string, events: readonly Ev[]): Promise<void> => {
    const out: WriteStream = createWriteStream(join(dir, name))
    const chunks: string[] = [header]
    for (const e of events) {
      chunks.push(e.line)
      if (chunks.length >= 10_000) {
        if (!out.write(chunks.join('\n') + '\n')) await new Promise<void>((ok) => out.once('drain', () => ok()))
        chunks.length = 0
      }
    }
    if (chunks.length) out.write(chunks.join('\n') + '\n')
    await new Promise<void>((ok, fail) => out.end((err?: Error | null) => (err ? fail(err) : ok())))
  }
  await write(
    'execsnoop.log',
    variant === 'libbpf' ? 'TIME     UID    PCOMM            PID    PPID   RET ARGS' : 'TIME     UID   COMM             PID     PPID    RET ARGS',
    execEvents,
  )
  await write(
    'exitsnoop.log',
    variant === 'libbpf'
      ? 'TIME(s)  PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE'
      : 'TIME-UTC     PCOMM            PID     PPID    TID     AGE(s)  EXIT_CODE ',
    exitEvents,
  )
  const opens = options.opensPerProcess ?? 0
  if (opens > 0) {
    const events: Ev[] = []
    for (const p of procs) {
      if (p.daemon || p.execs.length === 0) continue
      const comm = (p.execs.at(-1)?.comm ?? p.comm).slice(0, 15)
      for (let i = 0; i < opens; i++) {
        const at = (p.execs[0]?.at ?? p.start) + i
        const fd = rand() < 0.9 ? 3 + i : -1
        const err = fd === -1 ? 2 : 0
        events.push({
          at,
          line: `${pad(clock(at, false), 8)} ${pad(p.pid, 6)} ${pad(comm, 16)} ${String(fd).padStart(3)} ${String(err).padStart(3)} /usr/lib/x86_64-linux-gnu/lib${String(i)}.so.6`,
        })
      }
    }
    events.sort((a, b) => a.at - b.at)
    await write('opensnoop.log', 'TIME     PID    COMM              FD ERR PATH', events)
  }

  // TCP: each ssh session (a direct child of sshd) is one server-side
  // connection to port 22, accepted just before sshd forked it and closed
  // when it exited; tcpstates shows its chain, tcplife its lifetime.
  // Socket addresses are reused once their connection is closed.
  const connections: TruthConnection[] = []
  if (options.tcp ?? true) {
    const stateEvents: Ev[] = []
    const lifeEvents: Ev[] = []
    const free: { sk: string; at: number }[] = []
    let nextSk = 0xffff888100000000n
    const state = (at: number, sk: string, pid: number, comm: string, lport: number, rport: number, from: string, to: string, ms: number): Ev => ({
      at,
      line: `${clock(at, false)} ${sk} ${pad(pid, 7)} ${pad(comm.slice(0, 10), 10)} ${pad('10.0.0.1', 15)} ${pad(lport, 5)} ${pad('10.0.9.9', 15)} ${pad(rport, 5)} ${pad(from, 11)} -> ${pad(to, 11)} ${ms.toFixed(3)}`,
    })
    for (const s of sshd.children) {
      const syn = s.start - 2
      const reuse = free.findIndex((f) => f.at < syn - 1000)
      const sk = reuse >= 0 ? free.splice(reuse, 1)[0]!.sk : (nextSk += 0x40n).toString(16)
      const rport = 32768 + Math.floor(rand() * 28000)
      const handshake = Math.round((0.01 + rand() * 0.3) * 1000) / 1000
      stateEvents.push(state(syn, sk, 0, 'swapper/0', 22, rport, 'LISTEN', 'SYN_RECV', 0))
      stateEvents.push(state(syn + 1, sk, sshd.pid, 'sshd', 22, rport, 'SYN_RECV', 'ESTABLISHED', handshake))
      const conn: TruthConnection = { session: s.pid, rport, handshakeMs: handshake, lifetimeMs: null }
      if (s.exit !== null) {
        const close = s.exit + 1
        const life = close - syn
        stateEvents.push(state(close, sk, s.pid, s.comm, 22, rport, 'ESTABLISHED', 'CLOSE_WAIT', life - 1))
        stateEvents.push(state(close, sk, s.pid, s.comm, 22, rport, 'CLOSE_WAIT', 'LAST_ACK', 0.05))
        stateEvents.push(state(close + 1, sk, 0, 'swapper/0', 22, rport, 'LAST_ACK', 'CLOSE', 0.1))
        lifeEvents.push({
          at: close + 1,
          line: `${clock(close + 1, false)} ${pad(s.pid, 7)} ${pad('sshd', 16)} ${pad('10.0.0.1', 15)} ${pad(22, 5)} ${pad('10.0.9.9', 15)} ${pad(rport, 5)} ${pad('3.99', 6)} ${pad('4.10', 6)} ${life.toFixed(2)}`,
        })
        conn.lifetimeMs = Number(life.toFixed(2))
        free.push({ sk, at: close + 1 })
      }
      connections.push(conn)
    }
    stateEvents.sort((a, b) => a.at - b.at)
    lifeEvents.sort((a, b) => a.at - b.at)
    await write('tcpstates.log', 'TIME(s)  SKADDR           PID     COMM       LADDR           LPORT RADDR           RPORT OLDSTATE    -> NEWSTATE    MS', stateEvents)
    await write('tcplife.log', 'TIME(s)  PID     COMM             LADDR           LPORT RADDR           RPORT TX_KB  RX_KB  MS', lifeEvents)
  }

  // Truth: descendants of every instance of a few roots' PIDs.
  const descendantsOf = (pid: number): Proc[] => {
    const out: Proc[] = []
    const stack = procs.filter((p) => p.pid === pid)
    while (stack.length) {
      const p = stack.pop()!
      for (const c of p.children) {
        out.push(c)
        stack.push(c)
      }
    }
    return out
  }
  const sessionLeader = sshd.children.find((c) => descendantsOf(c.pid).length >= 60) ?? sshd.children[0]
  const roots: TruthRoot[] = []
  const addRoot = (name: string, pid: number): void => {
    const d = descendantsOf(pid)
    roots.push({ name, pid, descendants: d.length, pids: d.map((p) => p.pid).sort((a, b) => a - b) })
  }
  addRoot('sshd', sshd.pid)
  addRoot('buildd', buildd.pid)
  addRoot('cron', cron.pid)
  if (sessionLeader) addRoot('ssh-session', sessionLeader.pid)
  const truth: Truth = {
    processes: procs.length - daemons.length,
    execLines: execEvents.length,
    exitLines: exitEvents.length,
    date: startDate.toISOString().slice(0, 10),
    tz: 'UTC',
    roots,
    connections,
  }
  writeFileSync(join(dir, 'truth.json'), JSON.stringify(truth) + '\n')
  return truth
}
