/**
 * `npm run bench`: tracedb measured against the floor of its own stack.
 *
 * Prints one table (bench/README.md explains each figure). Ingest figures
 * are the median of `--runs` runs on the same generated data, each run a
 * fresh child process (so peak RSS is its own); query figures the median of
 * 20 runs.
 *   --quick      one 10k-process size (a smoke run CI may do)
 *   --sizes a,b  process counts (default 100000,1000000)
 *   --runs n     runs per ingest figure (default 3)
 *   --no-watch   skip the watch measurements
 *   --no-live    skip the live measurements (watch on an ingested capture)
 *   --no-fleet   skip the PostgreSQL figures (push to a throwaway cluster)
 *   --dir d      working directory (default $TMPDIR/tracedb-bench)
 */
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import BetterSqlite3 from 'better-sqlite3'
import { generate, type GenerateOptions, type Truth } from '../gen/generate.js'
import { listInputFiles } from '../ingest/files.js'
import { loadCatalog } from '../queries/catalog.js'
import { bindParams, runQuery } from '../queries/run.js'
import { openStore } from '../store/open.js'
import { addPushFigures, benchCopyFloor, benchPush, fleetCluster } from './fleet.js'
import { benchCentreReads } from './fleet-read.js'

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

/**
 * The generated capture of `n` processes, made once and reused while the
 * generator and its options are the same (a stamp of both is kept with it).
 */
async function dataset(n: number): Promise<{ dir: string; truth: Truth; files: string[]; bytes: number; lines: number }> {
  const dir = join(work, `gen-${String(n)}`)
  const options: GenerateOptions = { processes: n, seed: 42, opensPerProcess: 2 }
  const generator = readFileSync(fileURLToPath(new URL('../gen/generate.js', import.meta.url)))
  const stamp = createHash('sha1').update(generator).update(JSON.stringify(options)).digest('hex')
  const stampFile = join(dir, '.bench-stamp')
  let truth: Truth
  if (existsSync(join(dir, 'truth.json')) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth
  } else {
    process.stderr.write(`generating ${String(n)} processes into ${dir}\n`)
    rmSync(dir, { recursive: true, force: true })
    truth = await generate(dir, options)
    writeFileSync(stampFile, stamp)
  }
  // the files `tracedb ingest DIR` reads, so that the floor reads the same
  const files = listInputFiles([dir]).map((f) => f.path)
  const bytes = files.reduce((a, f) => a + statSync(f).size, 0)
  let lines = 0
  for (const f of files) {
    const data = readFileSync(f)
    for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) lines++
  }
  return { dir, truth, files, bytes, lines }
}

function benchIngest(n: number, d: Awaited<ReturnType<typeof dataset>>): { db: string; ms: number } {
  const floorMs: number[] = []
  const floorRss: number[] = []
  const tracedbMs: number[] = []
  const rss: number[] = []
  let lastDb = ''
  for (let i = 0; i < runs; i++) {
    const fdb = join(work, `floor-${String(n)}.db`)
    for (const suffix of ['', '-wal', '-shm']) rmSync(fdb + suffix, { force: true })
    const fl = measure(FLOOR, [fdb, ...d.files])
    if (Number(fl.stdout.trim()) !== d.lines) throw new Error(`floor read ${fl.stdout.trim()} lines, expected ${String(d.lines)}`)
    floorMs.push(fl.ms)
    floorRss.push(fl.rssKb)
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
  add(
    label,
    'ingest floor',
    `${(f / 1000).toFixed(2)} s`,
    `${Math.round(d.lines / (f / 1000)).toLocaleString('en')} lines/s, ${(d.bytes / 1e6 / (f / 1000)).toFixed(1)} MB/s, peak RSS ${(median(floorRss) / 1024).toFixed(0)} MB`,
  )
  add(
    label,
    'tracedb ingest',
    `${(t / 1000).toFixed(2)} s`,
    `${Math.round(d.lines / (t / 1000)).toLocaleString('en')} lines/s, ${(d.bytes / 1e6 / (t / 1000)).toFixed(1)} MB/s, peak RSS ${(median(rss) / 1024).toFixed(0)} MB`,
  )
  add(label, 'ratio tracedb / floor', `${(t / f).toFixed(2)}x`, 'target <= 1.5x at 1M; peak RSS target < 200 MB')
  return { db: lastDb, ms: t }
}

/** Median query times in ms, by figure name. */
function benchQueries(n: number, db: string, truth: Truth): Map<string, number> {
  const out = new Map<string, number>()
  const store = openStore(db, { readonly: true })
  const catalog = loadCatalog()
  const captureId = Number(store.sqlite.prepare('SELECT id FROM capture ORDER BY id DESC LIMIT 1').pluck().get())
  const label = `queries at ${(n / 1000).toLocaleString('en')}k processes`
  const time = (name: string, a: string[], expect?: number, target = ''): void => {
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
    add(label, `${name} ${a.join(' ')}`, `${median(ms).toFixed(2)} ms`, `median of 20, ${String(count)} rows${ok}${target}`)
    out.set(`${name} ${a.join(' ')}`, median(ms))
  }
  const session = truth.roots.find((r) => r.name === 'ssh-session')
  const build = truth.roots.find((r) => r.name === 'buildd')
  if (session) time('descendants', [String(session.pid)], session.descendants, '; target < 5 ms at 1M')
  if (build) time('descendants', [String(build.pid)], build.descendants, '; target < 1 s at 1M')
  const leaf = store.sqlite
    .prepare('SELECT pid FROM process p WHERE capture_id = ? AND NOT EXISTS (SELECT 1 FROM process c WHERE c.parent_id = p.id) ORDER BY id DESC LIMIT 1')
    .pluck()
    .get(captureId) as number | undefined
  if (leaf !== undefined) time('ancestors', [String(leaf)])
  if (session) time('summary', [String(session.pid)])
  store.close()
  return out
}

/**
 * The current way: pandas reads the execsnoop log (read_fwf for the fixed
 * columns; PID, PPID and RET are split on whitespace, since 7-digit PIDs
 * overflow their printf width and shift the columns after them) and walks the
 * PPIDs from one root. tracedb's answer to the same question: its ingest of
 * the whole capture plus the query (first answer), and the query alone
 * (every later answer).
 */
function pandas(d: Awaited<ReturnType<typeof dataset>>, ingestMs: number, queryMs: Map<string, number>): void {
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
df = pd.read_fwf(sys.argv[1], colspecs=[(0,8),(9,15),(15,31),(32,None)], names=['TIME','UID','PCOMM','REST'], skiprows=1)
cols = df.REST.str.split(n=3, expand=True)
kids = collections.defaultdict(set)
for pid, ppid in zip(cols[0].astype(int), cols[1].astype(int)):
    kids[ppid].add(pid)
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
    if (r.status !== 0) throw new Error(`pandas script failed: ${r.stderr}`)
    found = Number(r.stdout.split(' ')[0])
  }
  const p = median(ms)
  const label = `the current way (${(d.truth.processes / 1000).toLocaleString('en')}k)`
  add(
    label,
    'pandas read_fwf + BFS over PPID',
    `${(p / 1000).toFixed(2)} s`,
    `median of ${String(runs)}, python start included; finds ${String(found)} of ${String(root?.descendants ?? 0)} true descendants (execsnoop PPIDs only)`,
  )
  const q = queryMs.get(`descendants ${String(root?.pid ?? 0)}`)
  if (q !== undefined) {
    add(label, 'tracedb ingest + descendants / pandas', `${((ingestMs + q) / p).toFixed(2)}x`, 'the first answer, from the same logs (tracedb reads all five)')
    add(label, 'tracedb descendants / pandas', `${(q / p).toExponential(1)}x`, 'every later answer (the store is already built)')
  }
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

  // Lines written so far per file (line_no of the last = count + 1: the header is line 1).
  const count = written.map((w) => w.length)
  const allVisible = (): boolean => {
    const rows = seen.all() as { path: string; n: number }[]
    return files.every((f, i) => (rows.find((r) => r.path === f)?.n ?? 0) >= (count[i] ?? 0) + 1)
  }
  const append = (i: number, lines: number): void => {
    const chunk: string[] = []
    for (let k = 0; k < lines; k++) chunk.push(line())
    appendFileSync(files[i]!, chunk.join('\n') + '\n')
    count[i] = (count[i] ?? 0) + lines
  }

  // Highest sustained rate: rising rates, each for a few seconds, written in
  // 10 ms ticks across the 5 files. A rate is sustained when, once its
  // writing stops, every line is visible within 1 s (the backlog did not
  // grow); the ramp stops at the first rate that is not.
  const rates = quick ? [2_000, 10_000, 50_000] : [2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000]
  const stepSeconds = quick ? 2 : 5
  let sustained = 0
  let failed = ''
  for (const rate of rates) {
    const perTick = Math.max(5, Math.round(rate / 100))
    const stepStart = performance.now()
    let tick = 0
    while (performance.now() - stepStart < stepSeconds * 1000) {
      for (let i = 0; i < 5; i++) append(i, Math.round(perTick / 5))
      tick++
      const due = stepStart + tick * 10
      const wait = due - performance.now()
      if (wait > 0) await sleep(wait)
    }
    const wroteAt = performance.now()
    const achieved = (tick * 5 * Math.round(perTick / 5)) / ((wroteAt - stepStart) / 1000)
    while (!allVisible() && performance.now() - wroteAt < 1000) await sleep(5)
    const lag = performance.now() - wroteAt
    if (lag >= 1000 || achieved < rate * 0.9) {
      failed = achieved < rate * 0.9 ? `; the bench wrote only ${Math.round(achieved).toLocaleString('en')} lines/s at ${rate.toLocaleString('en')}` : `; at ${rate.toLocaleString('en')} lines/s it fell behind (more than 1 s of backlog)`
      while (!allVisible()) await sleep(20) // let it catch up before the next test
      break
    }
    sustained = rate
  }
  add('watch', 'highest sustained rate, 5 files', `${sustained.toLocaleString('en')} lines/s`, `of ${rates.map((r) => r.toLocaleString('en')).join(' / ')}, ${String(stepSeconds)} s each, all lines visible within 1 s after each step${failed}`)

  // A long run: a burst of lines appended as fast as the bench can, timed
  // until every line is visible (catch-up throughput), with the watcher's
  // RSS sampled all along (it must stay flat whatever the run's length).
  const burst = quick ? 100_000 : 1_000_000
  const rssStart = rssOf(child.pid)
  let rssPeak = rssStart
  const t0 = performance.now()
  const per = Math.ceil(burst / 5 / 100)
  for (let round = 0; round < 100; round++) {
    for (let i = 0; i < 5; i++) append(i, per)
    rssPeak = Math.max(rssPeak, rssOf(child.pid))
    await sleep(0)
  }
  const wroteMs = performance.now() - t0
  for (;;) {
    rssPeak = Math.max(rssPeak, rssOf(child.pid))
    if (allVisible()) break
    if (performance.now() - t0 > 600_000) break
    await sleep(20)
  }
  const ms = performance.now() - t0
  // the derivation that follows the last lines belongs to the run too
  const settle = performance.now()
  while (performance.now() - settle < (quick ? 2000 : 10_000)) {
    rssPeak = Math.max(rssPeak, rssOf(child.pid))
    await sleep(50)
  }
  const lines = per * 500
  add('watch', `catch-up after a ${(lines / 1e6).toFixed(1)}M-line burst`, `${Math.round(lines / (ms / 1000)).toLocaleString('en')} lines/s`, `written in ${(wroteMs / 1000).toFixed(1)} s, all visible after ${(ms / 1000).toFixed(1)} s`)
  add('watch', `watcher RSS over the ${(lines / 1e6).toFixed(1)}M-line run`, `${(rssStart / 1024).toFixed(0)} -> peak ${(rssPeak / 1024).toFixed(0)} MB`, 'sampled until 10 s after the last line was visible; target: within 50 MB of start')
  reader.close()
  child.kill('SIGINT')
  await new Promise((ok) => child.once('exit', ok))
}

/**
 * PostgreSQL as the centre (src/bench/fleet.ts): `tracedb push` of the
 * ingested capture against the floor of `psql \\copy` of the same rows, on a
 * throwaway cluster started for the section; then descendants on the centre
 * with one host's capture and with ten, and the size on disk of both engines
 * (src/bench/fleet-read.ts).
 */
async function benchFleet(n: number, db: string, truth: Truth): Promise<void> {
  const section = `fleet at ${(n / 1000).toLocaleString('en')}k processes`
  const cluster = await fleetCluster(add, section)
  if (!cluster) return
  try {
    const floor = await benchCopyFloor(cluster, db, 'floor', join(work, 'copy-floor'))
    const push = await benchPush(cluster, db, 'push', (a) => measure(CLI, a))
    addPushFigures(add, section, push, floor)
    await benchCentreReads(add, section, push.url, db, n, truth)
  } finally {
    cluster.stop()
  }
}

/** CPU time (user + system) of a process so far, in ms, from /proc. */
function cpuMsOf(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${String(pid)}/stat`, 'utf8').split(') ')[1]!.split(' ')
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after "pid (comm) "
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return NaN
  }
}

/**
 * Live at size: `tracedb watch` on a capture of `n` processes already
 * ingested, as a user runs it during an incident. The time until a new
 * process shows in `descendants` of its parent, polled from a separate
 * reader connection; the watcher's CPU while idle; its RSS over a long run
 * of appended lines; and `tracedb ingest` again with nothing new. The lines
 * appended to the dataset's execsnoop.log are cut off again at the end.
 */
async function benchLive(n: number, d: Awaited<ReturnType<typeof dataset>>, db: string): Promise<void> {
  const label = `live at ${(n / 1000).toLocaleString('en')}k processes`
  const noop = measure(CLI, ['ingest', d.dir, '--db', db, '--date', d.truth.date, '--tz', 'UTC', '--no-progress', '--json'])
  add(label, 'ingest again, nothing new', `${(noop.ms / 1000).toFixed(2)} s`, `whole command; peak RSS ${(noop.rssKb / 1024).toFixed(0)} MB; target < 2 s at 1M`)

  const execLog = join(d.dir, 'execsnoop.log')
  const size = statSync(execLog).size
  const reader = new BetterSqlite3(db, { readonly: true })
  const captureId = Number(reader.prepare('SELECT id FROM capture ORDER BY id DESC LIMIT 1').pluck().get())
  // a long-lived parent (exec'd, never exited, its PID used once) with a small tree
  const parent = reader
    .prepare(
      `SELECT p.id, p.pid FROM process p
       WHERE p.capture_id = ? AND p.seen_exec = 1 AND p.seen_exit = 0
         AND (SELECT count(*) FROM process q WHERE q.capture_id = p.capture_id AND q.pid = p.pid) = 1
         AND (SELECT count(*) FROM process c WHERE c.parent_id = p.id) BETWEEN 1 AND 20
       ORDER BY p.start_ts LIMIT 1`,
    )
    .get(captureId) as { id: number; pid: number } | undefined
  if (!parent) {
    add(label, 'new process in descendants', 'n/a', 'no long-lived parent in the capture')
    reader.close()
    return
  }
  const lastTime = /^(\d\d:\d\d:\d\d)/m.exec(readFileSync(execLog, 'utf8').slice(-4096).split('\n').filter((l) => /^\d\d:/.test(l)).at(-1) ?? '')?.[1] ?? '23:59:59'
  let nextPid = Number(reader.prepare('SELECT max(pid) FROM process WHERE capture_id = ?').pluck().get(captureId)) + 1000
  const line = (pid: number, ppid: number): string =>
    `${lastTime} 0     probe            ${String(pid).padEnd(6)} ${String(ppid).padEnd(6)}   0 /usr/bin/probe ${String(pid)} \n`

  const child = spawn(process.execPath, [CLI, 'watch', d.dir, '--db', db, '--date', d.truth.date, '--tz', 'UTC', '-q'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const started = performance.now()
  await new Promise<void>((ok, fail) => {
    let err = ''
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString()
      if (err.includes('watching')) ok()
    })
    child.once('exit', (code) => fail(new Error(`watch exited (${String(code)}): ${err}`)))
  })
  add(label, 'watch start-up on the capture', `${((performance.now() - started) / 1000).toFixed(2)} s`, 'until it reports watching (nothing new to derive)')
  const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms))

  // idle: nothing written for 5 s
  await sleep(1000)
  const cpu0 = cpuMsOf(child.pid)
  await sleep(5000)
  add(label, 'watcher CPU while idle', `${((100 * (cpuMsOf(child.pid) - cpu0)) / 5000).toFixed(1)} %`, 'over 5 s with nothing written (one core = 100 %)')

  const catalog = loadCatalog()
  const descendants = catalog.get('descendants')!
  const store = openStore(db, { readonly: true })
  const raw = reader.prepare('SELECT 1 FROM execsnoop_event WHERE capture_id = ? AND pid = ?')
  const appear: number[] = []
  const visible: number[] = []
  const probes = quick ? 10 : 25
  let tree = 0
  for (let k = 0; k < probes; k++) {
    const c = nextPid++
    const g = nextPid++
    const t0 = performance.now()
    appendFileSync(execLog, line(c, parent.pid) + line(g, c))
    let rawAt = NaN
    for (;;) {
      const now = performance.now()
      if (Number.isNaN(rawAt) && raw.get(captureId, g) !== undefined) rawAt = now
      const rows = runQuery(store, descendants, bindParams(descendants, [String(parent.pid)]), captureId).rows
      if (rows.some((r) => r.pid === g)) {
        appear.push(performance.now() - t0)
        visible.push((Number.isNaN(rawAt) ? performance.now() : rawAt) - t0)
        tree = rows.length
        break
      }
      if (now - t0 > 30_000) break
      await sleep(2)
    }
    await sleep(100)
  }
  add(
    label,
    'new process in descendants of its parent',
    `p50 ${pct(appear, 50).toFixed(0)} ms, p99 ${pct(appear, 99).toFixed(0)} ms`,
    `${String(appear.length)}/${String(probes)} probes (a child and its child appended under pid ${String(parent.pid)}, ${String(tree)} descendants), polled from a reader; target p50 < 200 ms, worst < 1 s`,
  )
  add(label, 'the raw row visible', `p50 ${pct(visible, 50).toFixed(0)} ms, p99 ${pct(visible, 99).toFixed(0)} ms`, 'same probes; target < 200 ms')

  // a long run: many new processes (exec and exit lines) appended at once, RSS sampled until the watcher is idle again
  const lines = quick ? 100_000 : 1_000_000
  const exitLog = join(d.dir, 'exitsnoop.log')
  const exitSize = statSync(exitLog).size
  const rssStart = rssOf(child.pid)
  let rssPeak = rssStart
  const t0 = performance.now()
  const per = 5_000
  for (let written = 0; written < lines; written += 2 * per) {
    let execs = ''
    let exits = ''
    for (let i = 0; i < per; i++) {
      const p = nextPid++
      execs += line(p, parent.pid)
      exits += `${lastTime.padStart(8)} probe            ${String(p).padEnd(7)} ${String(parent.pid).padEnd(7)} ${String(p).padEnd(7)} 0.01    0\n`
    }
    appendFileSync(execLog, execs)
    appendFileSync(exitLog, exits)
    rssPeak = Math.max(rssPeak, rssOf(child.pid))
    await sleep(0)
  }
  const last = nextPid - 1
  const derived = reader.prepare('SELECT 1 FROM process WHERE capture_id = ? AND pid = ? AND seen_exit = 1')
  for (;;) {
    rssPeak = Math.max(rssPeak, rssOf(child.pid))
    if (derived.get(captureId, last) !== undefined) break
    if (performance.now() - t0 > 1_800_000) break
    await sleep(50)
  }
  const ms = performance.now() - t0
  const idle = performance.now()
  while (performance.now() - idle < 3000) {
    rssPeak = Math.max(rssPeak, rssOf(child.pid))
    await sleep(50)
  }
  add(label, `${(lines / 1e6).toFixed(1)}M lines appended (new processes)`, `${Math.round(lines / (ms / 1000)).toLocaleString('en')} lines/s`, `all derived after ${(ms / 1000).toFixed(1)} s`)
  add(label, 'watcher RSS over that run', `${(rssStart / 1024).toFixed(0)} -> peak ${(rssPeak / 1024).toFixed(0)} MB`, 'sampled until 3 s after the last process was derived; target < 200 MB')
  store.close()
  reader.close()
  child.kill('SIGINT')
  await new Promise((ok) => child.once('exit', ok))
  truncateSync(execLog, size)
  truncateSync(exitLog, exitSize)
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
  const ingested = benchIngest(n, d)
  const queryMs = benchQueries(n, ingested.db, d.truth)
  if (n === sizes.at(-1)) pandas(d, ingested.ms, queryMs)
  if (n === sizes.at(-1) && !args.includes('--no-fleet')) await benchFleet(n, ingested.db, d.truth)
  if (!args.includes('--no-live')) await benchLive(n, d, ingested.db)
}
if (!args.includes('--no-watch')) await benchWatch()

const w = [0, 0, 0]
for (const r of rows) {
  w[0] = Math.max(w[0] ?? 0, r.section.length)
  w[1] = Math.max(w[1] ?? 0, r.figure.length)
  w[2] = Math.max(w[2] ?? 0, r.value.length)
}
const out = [
  `tracedb bench (${quick ? 'quick' : 'full'}) ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ` +
    `${String(cpus().length)} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; ` +
    `median of ${String(runs)} runs for ingest`,
]
for (const r of rows) out.push(`${r.section.padEnd(w[0] ?? 0)}  ${r.figure.padEnd(w[1] ?? 0)}  ${r.value.padEnd(w[2] ?? 0)}  ${r.note}`)
process.stdout.write(out.join('\n') + '\n')
