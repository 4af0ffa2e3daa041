import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { hostname, release } from 'node:os'
import { join } from 'node:path'
import { InputError, UsageError } from '../errors.js'
import { FORMATS } from '../formats/index.js'
import { zoneOffsetSeconds } from '../ingest/clock.js'
import { SourceParser } from '../ingest/source-parser.js'

/** How one variant of a tool is run. */
interface Invocation {
  readonly args: readonly string[]
  /**
   * Flags added only when the tool's `--help` offers them (a newer version
   * prints a better clock: libbpf biosnoop >= 0.28 `-t`).
   */
  readonly ifOffered?: readonly { readonly args: readonly string[]; readonly help: RegExp }[]
  /** The flag that limits the tool to one cgroup v2 directory's processes. */
  readonly cgroup?: string
}

/** A tool tracedb knows how to run, with the flags that give the best timestamps and columns. */
interface ToolRecipe {
  readonly name: string
  /** libbpf-tools binary name (sigsnoop stands in for killsnoop). */
  readonly libbpf?: Invocation & { readonly bin: string }
  /** Python bcc tool: Debian's `<name>-bpfcc`, or `<name>.py` in --bcc-tools. */
  readonly python?: Invocation
}

/**
 * What `tracedb record` runs, in this order, when the tool is installed. The
 * flags give each tool's best clock (checked against each tool's `--help`):
 *
 * - execsnoop `-T -t`: the wall-clock second and the seconds since the tool
 *   started, to the ms (anchored by capture.json's `started_utc`/`header_utc`);
 * - exitsnoop: libbpf `-t` prints HH:MM:SS (its best); Python `--utc`
 *   HH:MM:SS.mmm;
 * - tcpstates, tcplife: libbpf `-T` HH:MM:SS (no other clock); Python `-T -t`
 *   adds seconds since the first event, to the µs;
 * - opensnoop: libbpf `-T` HH:MM:SS; Python `-T` seconds since the first event;
 * - biosnoop: libbpf >= 0.28 `-t` HH:MM:SS.mmm when offered, else seconds
 *   since the first I/O; drsnoop, filelife, sigsnoop/killsnoop, tcpretrans
 *   print HH:MM:SS without a flag (Python drsnoop, shmsnoop, sofdsnoop `-T`:
 *   seconds since the first event);
 * - runqslower `-P 1000`: run-queue waits of 1 ms or more (the tool's default
 *   threshold, 10 ms, hides the waits that add up under load) and the task
 *   that held the CPU; HH:MM:SS.
 */
export const RECIPES: readonly ToolRecipe[] = [
  { name: 'execsnoop', libbpf: { bin: 'execsnoop', args: ['-T', '-t', '-U', '-x'], cgroup: '-c' }, python: { args: ['-T', '-t', '-U', '-x'] } },
  { name: 'exitsnoop', libbpf: { bin: 'exitsnoop', args: ['-t'], cgroup: '-c' }, python: { args: ['--utc'] } },
  { name: 'tcpstates', libbpf: { bin: 'tcpstates', args: ['-T'] }, python: { args: ['-T', '-t'] } },
  { name: 'tcplife', libbpf: { bin: 'tcplife', args: ['-T'] }, python: { args: ['-T', '-t'] } },
  { name: 'tcpretrans', python: { args: ['-l'] } },
  {
    name: 'biosnoop',
    libbpf: { bin: 'biosnoop', args: [], ifOffered: [{ args: ['-t'], help: /^\s*-t, --timestamp\b/m }], cgroup: '-c' },
    python: { args: [] },
  },
  { name: 'filelife', libbpf: { bin: 'filelife', args: [] }, python: { args: [] } },
  { name: 'drsnoop', libbpf: { bin: 'drsnoop', args: [] }, python: { args: ['-T'] } },
  { name: 'opensnoop', libbpf: { bin: 'opensnoop', args: ['-T', '-U'] }, python: { args: ['-T', '-U'] } },
  { name: 'killsnoop', libbpf: { bin: 'sigsnoop', args: ['-n'] }, python: { args: [] } },
  { name: 'shmsnoop', python: { args: ['-T'] } },
  { name: 'sofdsnoop', python: { args: ['-T'] } },
  { name: 'runqslower', libbpf: { bin: 'runqslower', args: ['-P', '1000'] }, python: { args: ['-P', '1000'] } },
]

export const DEFAULT_TOOLS = ['execsnoop', 'exitsnoop', 'tcpstates', 'tcplife', 'tcpretrans', 'biosnoop', 'filelife', 'drsnoop', 'runqslower']

export interface RecordOptions {
  readonly dir: string
  readonly durationMs: number
  readonly tools?: readonly string[]
  /** A bcc checkout's tools/ directory (Python tools as `<tool>.py`). */
  readonly bccTools?: string
  /** Where libbpf-tools and `*-bpfcc` live (default /usr/sbin). */
  readonly sbin?: string
  /**
   * A cgroup v2 directory: the tools that can (libbpf execsnoop, exitsnoop,
   * biosnoop: `-c`) trace only its processes; the others trace everything.
   */
  readonly cgroup?: string
  /** How long a tool may take to print its header (ms). */
  readonly startTimeoutMs?: number
  readonly onStatus?: (message: string) => void
  /** Resolves early when the user interrupts. */
  readonly stopSignal?: Promise<void>
}

export interface ToolRun {
  readonly path: string
  readonly variant: 'libbpf' | 'python'
  readonly version: string | null
  readonly command: readonly string[]
  readonly log: string
  /** When the tool was started (ISO 8601 UTC, to the ms). */
  readonly started_utc: string
  /**
   * When its header was first seen in the log (ISO 8601 UTC, to the ms,
   * looked for every 10 ms): the tool had attached. A clock counting from the
   * tool's start (execsnoop `-t`) starts between the two.
   */
  readonly header_utc: string | null
}

export interface CaptureJson {
  readonly start_utc: string
  readonly end_utc: string
  readonly tz: string
  readonly tz_offset: string
  readonly hostname: string
  readonly kernel: string
  readonly pid_max: number | null
  /** The cgroup the process tools were limited to (`--cgroup`), when one was. */
  readonly cgroup?: string
  readonly tools: Record<string, ToolRun>
  readonly failed: Record<string, string>
}

/** Why real tracing cannot start, or undefined. */
export function tracingProblems(): string[] {
  const problems: string[] = []
  if (process.platform !== 'linux') problems.push('eBPF tracing needs Linux')
  if (process.getuid?.() !== 0) problems.push('not root: the tools need CAP_BPF/CAP_SYS_ADMIN (run with sudo)')
  if (!existsSync('/sys/kernel/tracing/events') && !existsSync('/sys/kernel/debug/tracing/events')) {
    const m = spawnSync('mount', ['-t', 'tracefs', 'tracefs', '/sys/kernel/tracing'])
    if (m.status !== 0) problems.push('tracefs is not mounted (mount -t tracefs tracefs /sys/kernel/tracing)')
  }
  return problems
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function packageVersion(path: string): string | null {
  const r = spawnSync('dpkg-query', ['-S', path], { encoding: 'utf8' })
  const pkg = r.status === 0 ? r.stdout.split(':')[0]?.trim() : undefined
  if (!pkg) return null
  const v = spawnSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' })
  return v.status === 0 ? `${pkg} ${v.stdout.trim()}` : null
}

/** The recipe's flags, with those this tool's `--help` offers and the cgroup filter. */
function argsFor(how: Invocation, path: string, cgroup: string | undefined): string[] {
  const args = [...how.args]
  if (how.ifOffered?.length) {
    const help = spawnSync(path, ['--help'], { encoding: 'utf8', timeout: 5000 })
    const text = `${help.stdout ?? ''}${help.stderr ?? ''}`
    for (const extra of how.ifOffered) if (extra.help.test(text)) args.push(...extra.args)
  }
  if (cgroup !== undefined && how.cgroup !== undefined) args.push(how.cgroup, cgroup)
  return args
}

/** How to run a tool here, or why not. */
export function locate(
  recipe: ToolRecipe,
  sbin: string,
  bccTools?: string,
  cgroup?: string,
): { command: string[]; path: string; variant: 'libbpf' | 'python'; env: NodeJS.ProcessEnv; cgroupFiltered: boolean } | string {
  if (bccTools && recipe.python) {
    for (const candidate of [join(bccTools, `${recipe.name}.py`), join(bccTools, recipe.name)]) {
      if (existsSync(candidate)) {
        const args = argsFor(recipe.python, candidate, cgroup)
        return { command: ['python3', '-u', candidate, ...args], path: candidate, variant: 'python', env: { PYTHONUNBUFFERED: '1' }, cgroupFiltered: recipe.python.cgroup !== undefined && cgroup !== undefined }
      }
    }
  }
  if (recipe.libbpf) {
    const path = join(sbin, recipe.libbpf.bin)
    if (executable(path)) {
      const args = argsFor(recipe.libbpf, path, cgroup)
      return { command: ['stdbuf', '-oL', path, ...args], path, variant: 'libbpf', env: {}, cgroupFiltered: recipe.libbpf.cgroup !== undefined && cgroup !== undefined }
    }
  }
  if (recipe.python) {
    const path = join(sbin, `${recipe.name}-bpfcc`)
    if (executable(path)) {
      const args = argsFor(recipe.python, path, cgroup)
      return { command: [path, ...args], path, variant: 'python', env: { PYTHONUNBUFFERED: '1' }, cgroupFiltered: recipe.python.cgroup !== undefined && cgroup !== undefined }
    }
  }
  const where = [recipe.libbpf && join(sbin, recipe.libbpf.bin), recipe.python && join(sbin, `${recipe.name}-bpfcc`)].filter(Boolean)
  return `not installed (looked for ${where.join(', ')}${bccTools ? ` and ${recipe.name}.py in ${bccTools}` : ''}; apt-get install libbpf-tools or bpfcc-tools)`
}

/** True once the log has any bytes (cheaper than reading it). */
function logStarted(log: string): boolean {
  try {
    return statSync(log).size > 0
  } catch {
    return false
  }
}

/** True once the log has a header any format recognises. */
function headerSeen(log: string): boolean {
  let text: string
  try {
    text = readFileSync(log, 'utf8')
  } catch {
    return false
  }
  const parser = new SourceParser(FORMATS)
  for (const line of text.split('\n').slice(0, 50)) {
    parser.push(line)
    if (parser.layout) return true
  }
  return false
}

const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms))

/**
 * Runs the tracing tools into `dir` for a while, line-buffered, and stops
 * them with SIGINT (which flushes them); writes `capture.json`.
 *
 * ### Examples
 * ```ts
 * const meta = await record({ dir: './logs', durationMs: 15_000 })
 * console.log(Object.keys(meta.tools), meta.failed)
 * ```
 */
export async function record(options: RecordOptions): Promise<CaptureJson> {
  const wanted = options.tools ?? DEFAULT_TOOLS
  for (const t of wanted) {
    if (!RECIPES.some((r) => r.name === t)) {
      throw new UsageError(`unknown tool "${t}"`, { hint: `known: ${RECIPES.map((r) => r.name).join(', ')}` })
    }
  }
  const problems = tracingProblems()
  if (problems.some((p) => p.startsWith('eBPF'))) throw new InputError(problems.join('; '))
  for (const p of problems) options.onStatus?.(`warning: ${p}`)
  const cgroup = options.cgroup
  if (cgroup !== undefined && !existsSync(join(cgroup, 'cgroup.procs'))) {
    throw new InputError(`--cgroup ${cgroup}: not a cgroup v2 directory (it has no cgroup.procs)`, {
      hint: 'create one under the cgroup2 mount (e.g. mkdir /sys/fs/cgroup/demo, or /sys/fs/cgroup/unified/demo on a hybrid layout) and write the workload\'s PID into its cgroup.procs',
    })
  }
  mkdirSync(options.dir, { recursive: true })
  const sbin = options.sbin ?? '/usr/sbin'
  const status = options.onStatus ?? (() => undefined)
  const failed: Record<string, string> = {}
  const running: { name: string; child: ChildProcess; run: { -readonly [K in keyof ToolRun]: ToolRun[K] }; exited: boolean }[] = []
  const start = new Date()

  for (const name of wanted) {
    const recipe = RECIPES.find((r) => r.name === name)
    if (!recipe) continue
    const where = locate(recipe, sbin, options.bccTools, cgroup)
    if (typeof where === 'string') {
      failed[name] = where
      continue
    }
    if (cgroup !== undefined && !where.cgroupFiltered) status(`${name}: traces every process (it has no cgroup filter)`)
    const log = join(options.dir, `${name}.log`)
    const fd = openSync(log, 'w')
    const [cmd = '', ...args] = where.command
    // taken right before the spawn: a clock counting from the tool's start
    // (execsnoop -t) starts a few ms after it
    const startedUtc = new Date().toISOString()
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...where.env } })
    closeSync(fd)
    const entry = {
      name,
      child,
      exited: false,
      run: {
        path: where.path,
        variant: where.variant,
        version: packageVersion(where.path),
        command: where.command,
        log: `${name}.log`,
        started_utc: startedUtc,
        header_utc: null as string | null,
      },
    }
    child.once('exit', () => (entry.exited = true))
    child.once('error', (e) => {
      entry.exited = true
      failed[name] = `could not start: ${e.message}`
    })
    running.push(entry)
  }

  // Wait until each tool printed its header (attached), or gave up. The
  // moment is kept to the ms (header_utc): it anchors the clocks that count
  // from the tool's start, so the logs are looked at every 10 ms.
  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000)
  for (;;) {
    for (const r of running) {
      if (r.run.header_utc === null && logStarted(join(options.dir, r.run.log)) && headerSeen(join(options.dir, r.run.log))) {
        r.run.header_utc = new Date().toISOString()
        status(`${r.name}: tracing (${r.run.variant}, ${r.run.command.join(' ')})`)
      }
    }
    const pending = running.filter((r) => r.run.header_utc === null && !r.exited)
    if (pending.length === 0 || Date.now() > deadline) break
    await sleep(10)
  }
  for (const r of running) {
    if (r.run.header_utc !== null && !r.exited) continue
    const out = (() => {
      try {
        return readFileSync(join(options.dir, r.run.log), 'utf8').trim().split('\n').slice(-3).join(' | ')
      } catch {
        return ''
      }
    })()
    failed[r.name] ??= r.exited ? `exited at start: ${out || 'no output'}` : `no header after ${String(options.startTimeoutMs ?? 20_000)} ms: ${out || 'no output'}`
    if (!r.exited) r.child.kill('SIGINT')
    status(`${r.name}: FAILED — ${failed[r.name] ?? ''}`)
  }
  for (const [name, why] of Object.entries(failed)) if (!running.some((r) => r.name === name)) status(`${name}: skipped — ${why}`)
  const live = running.filter((r) => r.run.header_utc !== null && !r.exited)
  if (live.length === 0) {
    throw new InputError('no tracing tool could start', {
      hint: [...problems, ...Object.entries(failed).map(([n, w]) => `${n}: ${w}`)].join('; '),
    })
  }

  status(`recording into ${options.dir} for ${String(Math.round(options.durationMs / 1000))} s (Ctrl-C to stop early)`)
  // the duration's timer is cleared when the user stops early: left running,
  // it would keep tracedb alive until the whole duration had passed
  let timer: NodeJS.Timeout | undefined
  await Promise.race([new Promise<void>((ok) => (timer = setTimeout(ok, options.durationMs))), options.stopSignal ?? new Promise(() => undefined)])
  clearTimeout(timer)

  // SIGINT flushes the tools' buffers; SIGTERM/SIGKILL would lose them.
  for (const r of live) r.child.kill('SIGINT')
  const stopBy = Date.now() + 10_000
  while (live.some((r) => !r.exited) && Date.now() < stopBy) await sleep(50)
  for (const r of live) {
    if (!r.exited) {
      r.child.kill('SIGKILL')
      failed[r.name] = 'did not stop on SIGINT within 10 s; killed (its last lines may be lost)'
    }
  }
  const end = new Date()
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone
  const off = zoneOffsetSeconds(tz, start.getTime() / 1000)
  const sign = off < 0 ? '-' : '+'
  const abs = Math.abs(off)
  let pidMax: number | null = null
  try {
    pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim())
  } catch {
    pidMax = null
  }
  const meta: CaptureJson = {
    start_utc: start.toISOString(),
    end_utc: end.toISOString(),
    tz,
    tz_offset: `${sign}${String(Math.floor(abs / 3600)).padStart(2, '0')}:${String(Math.floor((abs % 3600) / 60)).padStart(2, '0')}`,
    hostname: hostname(),
    kernel: release(),
    pid_max: pidMax,
    ...(cgroup !== undefined ? { cgroup } : {}),
    tools: Object.fromEntries(running.filter((r) => r.run.header_utc !== null).map((r) => [r.name, r.run])),
    failed,
  }
  writeFileSync(join(options.dir, 'capture.json'), JSON.stringify(meta, null, 2) + '\n')
  return meta
}
