import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, openSync, readFileSync } from 'node:fs'

/**
 * Why real tracing cannot run here, or undefined when it can: needs root,
 * libbpf-tools in /usr/sbin, tracefs, and a kernel that lets execsnoop attach.
 */
export async function tracingUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'not root (BPF needs CAP_BPF/CAP_SYS_ADMIN)'
  for (const tool of ['execsnoop', 'exitsnoop']) {
    if (!existsSync(`/usr/sbin/${tool}`)) return `/usr/sbin/${tool} not installed (apt-get install libbpf-tools)`
  }
  if (!existsSync('/sys/kernel/tracing/events')) {
    spawnSync('mount', ['-t', 'tracefs', 'tracefs', '/sys/kernel/tracing'])
    if (!existsSync('/sys/kernel/tracing/events')) return 'tracefs is not mounted and could not be mounted'
  }
  // Can execsnoop attach? Start it and wait for its header.
  const probe = spawn('stdbuf', ['-oL', '/usr/sbin/execsnoop'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  probe.stdout.on('data', (b: Buffer) => (out += b.toString()))
  probe.stderr.on('data', (b: Buffer) => (out += b.toString()))
  const ok = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 8000)
    probe.stdout.on('data', () => {
      if (out.includes('PCOMM')) {
        clearTimeout(timer)
        resolve(true)
      }
    })
    probe.once('exit', () => {
      clearTimeout(timer)
      resolve(out.includes('PCOMM'))
    })
  })
  probe.kill('SIGINT')
  return ok ? undefined : `execsnoop could not attach: ${out.trim().split('\n').slice(-2).join(' ') || 'no output'}`
}

/** Starts a libbpf tool line-buffered with stdout+stderr into `file`. */
export function startTool(tool: string, args: string[], file: string): ChildProcess {
  const fd = openSync(file, 'a')
  return spawn('stdbuf', ['-oL', `/usr/sbin/${tool}`, ...args], { stdio: ['ignore', fd, fd] })
}

/** Waits until `file` has a first line. */
export async function waitForHeader(file: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (existsSync(file) && readFileSync(file, 'utf8').includes('\n')) return
    await new Promise((ok) => setTimeout(ok, 50))
  }
  throw new Error(`${file}: no header after ${String(timeoutMs)} ms`)
}

/** Stops a child with SIGINT (tools flush on SIGINT) and waits for it. */
export async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode
  const done = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)))
  child.kill('SIGINT')
  return done
}
