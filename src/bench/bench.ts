/**
 * `npm run bench`: tracedb measured against the floor of its own stack.
 *
 * Prints one table. Every figure is the median of several runs on the same
 * generated data, each run a fresh child process (so peak RSS is its own).
 *   --quick      one 10k-process size (a smoke run CI may do)
 *   --sizes a,b  process counts (default 100000,1000000)
 *   --runs n     runs per ingest figure (default 3)
 *   --no-watch   skip the watch measurements
 */
import { spawn, spawnSync } from 'node:child_process'
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import BetterSqlite3 from 'better-sqlite3'
import { generate, type Truth } from '../gen/generate.js'
import { loadCatalog } from '../queries/catalog.js'
import { bindParams, runQuery } from '../queries/run.js'
import { openStore } from '../store/open.js'

const DIST = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(DIST, 'cli', 'main.js')
const FLOOR = join(DIST, 'bench', 'floor.js')
const HOOK = new URL('./rss-hook.js', import.meta.url).href
const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i === -1 ? undefined : args[i + 1]
}
const quick = args.includes('--quick')
const sizes = quick ? [10_000] : (flag('--sizes') ?? '100000,1000000').split(',').map(Number)
const runs = Number(flag('--runs') ?? 3)
const work = flag('--dir') ?? join(tmpdir(), 'tracedb-bench')
mkdirSync(work, { recursive: true })

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2
}
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0
}
const rows: { section: string; figure: string; value: string; note: string }[] = []
const add = (section: string, figure: string, value: string, note = ''): void => {
  rows.push({ section, figure, value, note })
  process.stderr.write(`  ${section} | ${figure}: ${value} ${note}\n`)
}

/** Runs a node script as a child; returns elapsed ms and peak RSS (KB). */
function measure(script: string, scriptArgs: string[]): { ms: number; rssKb: number; stdout: string } {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(process.execPath, ['--import', HOOK, script, ...scriptArgs], { encoding: 'utf8', maxBuffer: 1 << 28 })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`${script} ${scriptArgs.join(' ')} failed: ${r.stderr}`)
  const m = /__TRACEDB_BENCH_MAXRSS_KB__ (\d+)/.exec(r.stderr)
  return { ms, rssKb: Number(m?.[1] ?? 0), stdout: r.stdout }
}

async function dataset(n: number): Promise<{ dir: string; truth: Truth; files: string[]; bytes: number; lines: number }> {
  const dir = join(work, `gen-${String(n)}`)
  let truth: Truth
  if (existsSync(join(dir, 'truth.json'))) {
    truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth
  } else {
    process.stderr.write(`generating ${String(n)} processes into ${dir}\n`)
    truth = await generate(dir, { processes: n, seed: 42, opensPerProcess: 2 })
  }
  const files = ['execsnoop.log', 'exitsnoop.log', 'opensnoop.log'].map((f) => join(dir, f)).filter((f) => existsSync(f))
  const bytes = files.reduce((a, f) => a + statSync(f).size, 0)
  const lines = files.reduce((a, f) => a + readFileSync(f).toString('latin1').split('\n').length - 1, 0)
  return { dir, truth, files, bytes, lines }
}

function benchIngest(n: number, d: Awaited<ReturnType<typeof dataset>>): string {
  const floorMs: number[] = []
  const tracedbMs: number[] = []
  const rss: number[] = []
  let lastDb = ''
  for (let i = 0; i < runs; i++) {
    const fdb = join(work, `floor-${String(n)}.db`)
    rmSync(fdb, { force: true })
    rmSync(`${fdb}-wal`, { force: true })
    floorMs.push(measure(FLOOR, [fdb, ...d.files]).ms)
    const tdb = join(work, `tracedb-${String(n)}.db`)
    for (const suffix of ['', '-wal', '-shm']) rmSync(tdb + suffix, { force: true })
    const r = measure(CLI, ['ingest', d.dir, '--db', tdb, '--date', d.truth.date, '--tz', 'UTC', '--no-progress', '--json'])
    tracedbMs.push(r.ms)
    rss.push(r.rssKb)
    lastDb = tdb
  }
  const f = median(floorMs)
  const t = median(tracedbMs)
  const label = `${(n / 1000).toLocaleString('en')}k processes (${(d.lines / 1e6).toFixed(2)}M lines, ${(d.bytes / 1e6).toFixed(0)} MB)`
  add(label, 'ingest floor', `${(f / 1000).toFixed(2)} s`, `${Math.round(d.lines / (f / 1000)).toLocaleString('en')} lines/s`)
  add(
    label,
    'tracedb ingest',
    `${(t / 1000).toFixed(2)} s`,
    `${Math.round(d.lines / (t / 1000)).toLocaleString('en')} lines/s, ${(d.bytes / 1e6 / (t / 1000)).toFixed(1)} MB/s, peak RSS ${(median(rss) / 1024).toFixed(0)} MB`,
  )
  add(label, 'ratio tracedb / floor', `${(t / f).toFixed(2)}x`, 'target <= 1.5x at 1M')
  return lastDb
}

function benchQueries(n: number, db: string, truth: Truth): void {
  const store = openStore(db, { readonly: true })
  const catalog = loadCatalog()
  const captureId = Number(store.sqlite.prepare('SELECT id FROM capture ORDER BY id DESC LIMIT 1').pluck().get())
  const label = `queries at ${(n / 1000).toLocaleString('en')}k processes`
  const time = (name: string, a: string[], expect?: number): void => {
    const q = catalog.get(name)
    if (!q) {
      add(label, name, 'n/a', 'query not present')
      return
    }
    const params = bindParams(q, a)
    const ms: number[] = []
    let count = 0
    for (let i = 0; i < 20; i++) {
      const t0 = process.hrtime.bigint()
      count = runQuery(store, q, params, captureId).rows.length
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6)
    }
    const ok = expect === undefined ? '' : count === expect ? ', matches truth' : `, TRUTH SAYS ${String(expect)}`
    add(label, `${name} ${a.join(' ')}`, `${median(ms).toFixed(2)} ms`, `median of 20, ${String(count)} rows${ok}`)
  }
  const session = truth.roots.find((r) => r.name === 'ssh-session')
  const build = truth.roots.find((r) => r.name === 'buildd')
  if (session) time('descendants', [String(session.pid)], session.descendants)
  if (build) time('descendants', [String(build.pid)], build.descendants)
  const leaf = store.sqlite
    .prepare('SELECT pid FROM process p WHERE capture_id = ? AND NOT EXISTS (SELECT 1 FROM process c WHERE c.parent_id = p.id) ORDER BY id DESC LIMIT 1')
    .pluck()
    .get(captureId) as number | undefined
  if (leaf !== undefined) time('ancestors', [String(leaf)])
  if (session) time('summary', [String(session.pid)])
  store.close()
}

function pandas(d: Awaited<ReturnType<typeof dataset>>): void {
  const py = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import pandas']).status === 0)
  if (!py) {
    add('the current way', 'pandas read_fwf + BFS', 'skipped', 'python3 with pandas not installed (apt-get install python3-pandas)')
    return
  }
  const root = d.truth.roots.find((r) => r.name === 'ssh-session')
  const script = `
import sys, time, collections
import pandas as pd
t0 = time.time()
df = pd.read_fwf(sys.argv[1], colspecs=[(0,8),(9,15),(15,31),(32,38),(39,45),(46,49),(50,None)], names=['TIME','UID','PCOMM','PID','PPID','RET','ARGS'], skiprows=1)
kids = collections.defaultdict(set)
for pid, ppid in zip(df.PID, df.PPID):
    kids[int(ppid)].add(int(pid))
seen, todo = set(), [int(sys.argv[2])]
while todo:
    p = todo.pop()
    for c in kids.get(p, ()):
        if c not in seen:
            seen.add(c); todo.append(c)
print(len(seen), time.time() - t0)
`
  const file = join(work, 'bfs.py')
  writeFileSync(file, script)
  const ms: number[] = []
  let found = 0
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint()
    const r = spawnSync(py, [file, join(d.dir, 'execsnoop.log'), String(root?.pid ?? 0)], { encoding: 'utf8' })
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6)
    found = Number(r.stdout.split(' ')[0])
  }
  add(
    'the current way',
    `pandas read_fwf + BFS (${(d.truth.processes / 1000).toFixed(0)}k)`,
    `${(median(ms) / 1000).toFixed(2)} s`,
    `finds ${String(found)} of ${String(root?.descendants ?? 0)} true descendants (execsnoop PPIDs only)`,
  )
}

/** Latency from a line written to visible in a query, at `rate` lines/s across 5 files. */
async function benchWatch(): Promise<void> {
  const dir = join(work, 'watch')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir)
  const db = join(work, 'watch.db')
  for (const s of ['', '-wal', '-shm']) rmSync(db + s, { force: true })
  const header = 'TIME     UID    PCOMM            PID    PPID   RET ARGS'
  const files = [0, 1, 2, 3, 4].map((i) => join(dir, `execsnoop-${String(i)}.log`))
  for (const f of files) writeFileSync(f, header + '\n')
  const child = spawn(process.execPath, [CLI, 'watch', dir, '--db', db, '--date', '2026-11-28', '--tz', 'UTC', '-q'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  await new Promise<void>((ok) => {
    child.stderr.on('data', (b: Buffer) => {
      if (b.toString().includes('watching')) ok()
    })
  })
  const reader = new BetterSqlite3(db, { readonly: true })
  const seen = reader.prepare("SELECT s.path, max(l.line_no) AS n FROM log_line l JOIN source s ON s.id = l.source_id WHERE s.state = 'active' GROUP BY s.path")
  const written = files.map(() => [] as number[]) // write time per line (index = line_no - 2)
  const visible = files.map(() => 1)
  const latencies: number[] = []
  let pid = 100_000
  const line = (): string => {
    pid++
    return `10:00:00 0     true             ${String(pid).padEnd(6)} 1000     0 /bin/true ${String(pid)} `
  }
  const poll = (): void => {
    const now = performance.now()
    for (const r of seen.all() as { path: string; n: number }[]) {
      const i = files.indexOf(r.path)
      if (i < 0) continue
      while ((visible[i] ?? 1) < r.n) {
        const w = written[i]?.[(visible[i] ?? 1) - 1]
        if (w !== undefined) latencies.push(now - w)
        visible[i] = (visible[i] ?? 1) + 1
      }
    }
  }
  const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms))
  // 1,000 lines/s across 5 files for 10 s (quick: 3 s): 10 lines every 10 ms
  const seconds = quick ? 3 : 10
  const start = performance.now()
  let tick = 0
  while (performance.now() - start < seconds * 1000) {
    for (let k = 0; k < 10; k++) {
      const i = (tick * 10 + k) % 5
      appendFileSync(files[i]!, line() + '\n')
      written[i]!.push(performance.now())
    }
    tick++
    const due = start + tick * 10
    while (performance.now() < due) {
      poll()
      await sleep(1)
    }
  }
  const total = written.reduce((a, w) => a + w.length, 0)
  const deadline = performance.now() + 10_000
  while (latencies.length < total && performance.now() < deadline) {
    poll()
    await sleep(2)
  }
  add('watch', 'latency at 1,000 lines/s, 5 files', `median ${median(latencies).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms`, `${String(latencies.length)}/${String(total)} lines seen; targets 100 / 500 ms`)

  // Sustained: append a burst as fast as possible, time until all visible.
  const burst = quick ? 100_000 : 1_000_000
  const rssStart = rssOf(child.pid)
  let rssPeak = rssStart
  const t0 = performance.now()
  const per = Math.ceil(burst / 5 / 100)
  for (let round = 0; round < 100; round++) {
    for (let i = 0; i < 5; i++) {
      const chunk: string[] = []
      for (let k = 0; k < per; k++) chunk.push(line())
      appendFileSync(files[i]!, chunk.join('\n') + '\n')
      for (let k = 0; k < per; k++) written[i]!.push(performance.now())
    }
    rssPeak = Math.max(rssPeak, rssOf(child.pid))
    await sleep(0)
  }
  const wroteMs = performance.now() - t0
  const want = written.map((w) => w.length + 1)
  for (;;) {
    const rows = seen.all() as { path: string; n: number }[]
    rssPeak = Math.max(rssPeak, rssOf(child.pid))
    if (rows.length === 5 && rows.every((r) => r.n >= (want[files.indexOf(r.path)] ?? Infinity))) break
    if (performance.now() - t0 > 600_000) break
    await sleep(20)
  }
  const ms = performance.now() - t0
  add('watch', `sustained ingest of a ${(burst / 1e6).toFixed(1)}M-line burst`, `${Math.round(burst / (ms / 1000)).toLocaleString('en')} lines/s`, `written in ${(wroteMs / 1000).toFixed(1)} s, all visible after ${(ms / 1000).toFixed(1)} s; target >= 50,000 lines/s`)
  add('watch', 'watcher RSS over the burst', `${(rssStart / 1024).toFixed(0)} -> peak ${(rssPeak / 1024).toFixed(0)} MB`, 'target: within 50 MB of start')
  reader.close()
  child.kill('SIGINT')
  await new Promise((ok) => child.once('exit', ok))
}

function rssOf(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'))
    return Number(m?.[1] ?? 0)
  } catch {
    return 0
  }
}

for (const n of sizes) {
  const d = await dataset(n)
  const db = benchIngest(n, d)
  benchQueries(n, db, d.truth)
  if (n === sizes.at(-1)) pandas(d)
}
if (!args.includes('--no-watch')) await benchWatch()

const w = [0, 0, 0]
for (const r of rows) {
  w[0] = Math.max(w[0] ?? 0, r.section.length)
  w[1] = Math.max(w[1] ?? 0, r.figure.length)
  w[2] = Math.max(w[2] ?? 0, r.value.length)
}
const out = [`tracedb bench (${quick ? 'quick' : 'full'}; node ${process.version}; median of ${String(runs)} runs for ingest)`]
for (const r of rows) out.push(`${r.section.padEnd(w[0] ?? 0)}  ${r.figure.padEnd(w[1] ?? 0)}  ${r.value.padEnd(w[2] ?? 0)}  ${r.note}`)
process.stdout.write(out.join('\n') + '\n')
