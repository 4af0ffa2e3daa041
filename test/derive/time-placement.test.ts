import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { rederive } from '../../src/derive/index.js'
import { instancesOf, type ExecRow, type ExitRow } from '../../src/derive/instances.js'
import { exportPerfetto } from '../../src/export/perfetto.js'
import { SourceClock, type ClockState, type ToolStart } from '../../src/ingest/clock.js'
import { ensureCapture, ingest, ingestFile, readCaptureJson, type FileContext } from '../../src/ingest/ingest.js'
import { FORMATS } from '../../src/formats/index.js'
import { loadCatalog } from '../../src/queries/catalog.js'
import { bindParams, resolveCapture, runQuery, type Value } from '../../src/queries/run.js'
import { openStore, type Store } from '../../src/store/open.js'
import { sqliteReader } from '../../src/store/reader.js'
import { canonicalDump } from '../helpers/canonical.js'

/**
 * Millisecond time placement: execsnoop `-T -t` anchored by its own lines
 * (and capture.json), processes placed by their most precise evidence, on
 * a real capture of run-parts running eight scripts one after another
 * (test/fixtures/runparts-ms, recorded with its record.sh).
 */

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'runparts-ms')
/** run-parts in the fixture */
const RUN_PARTS = 19491
const SCRIPTS = ['01-header', '02-sleep', '03-python', '04-sysinfo', '05-sleep', '06-subshell', '07-sleep', '08-python']
/** The ordering the acceptance asks for: each script starts after the previous one exits, within this (µs). */
const WITHIN = 10_000

const DATE = '2026-12-01'

function fresh(): ClockState {
  return { anchor: { date: DATE, tz: 'UTC' }, dayOffset: null, lastSecondsOfDay: null }
}

/** A deterministic pseudo-random sequence in [0, 1). */
function random(seed: number): () => number {
  let x = seed
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648
    return x / 2147483648
  }
}

/** `n` execsnoop -T -t times of a tool that started at `anchorUs`: [wall, printed TIME(s)] pairs. */
function lines(anchorUs: number, n: number, seed = 7): { hour: number; minute: number; second: number; rel: number; trueUs: number }[] {
  const next = random(seed)
  const out = []
  let rel = 300_000 // µs since the start
  for (let i = 0; i < n; i++) {
    rel += Math.round(5_000 + next() * 40_000)
    const t = anchorUs + rel
    const d = new Date(Math.floor(t / 1000))
    out.push({ hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), rel: Math.round(rel / 1000) / 1000, trueUs: t })
  }
  return out
}

function place(clock: SourceClock, l: ReturnType<typeof lines>[number]) {
  return clock.normalize({
    kind: 'relative',
    seconds: l.rel,
    since: 'tool_start',
    decimals: 3,
    wall: { hour: l.hour, minute: l.minute, second: l.second, utc: false },
  })
}

describe('the anchor of a relative clock printed beside a wall clock (execsnoop -T -t)', () => {
  const anchorUs = Date.UTC(2026, 11, 1, 10, 0, 0) * 1000 + 345_600

  test('a few hundred lines pin it to a few ms, without capture.json; each time lands within that of the truth', () => {
    const clock = new SourceClock(fresh(), () => undefined)
    const all = lines(anchorUs, 400)
    let last = { ts: null as bigint | null, precision: null as string | null }
    for (const l of all) last = place(clock, l)
    const a = clock.relativeAnchor!
    expect(a.from).toBe('lines')
    expect(a.lines).toBe(400)
    expect(a.conflict).toBe(false)
    expect(Math.abs(a.point - anchorUs)).toBeLessThanOrEqual(3_000)
    expect(a.width).toBeLessThanOrEqual(6_000)
    expect(['ms', '10ms']).toContain(last.precision)
    const lastTrue = all.at(-1)!.trueUs
    expect(Math.abs(Number(last.ts! / 1000n) - lastTrue)).toBeLessThanOrEqual(4_000)
  })

  test('one line alone bounds it to a second: precision s', () => {
    const clock = new SourceClock(fresh(), () => undefined)
    const r = place(clock, lines(anchorUs, 1)[0]!)
    expect(r.precision).toBe('s')
    expect(clock.relativeAnchor!.width).toBeGreaterThan(900_000)
  })

  test('the lines in any order give the same anchor (a watcher and one pass agree)', () => {
    const all = lines(anchorUs, 300, 11)
    const a = new SourceClock(fresh(), () => undefined)
    for (const l of all) place(a, l)
    const b = new SourceClock(fresh(), () => undefined)
    const shuffled = [...all].sort((x, y) => (x.trueUs * 7919) % 1000 - (y.trueUs * 7919) % 1000)
    for (const l of shuffled) place(b, l)
    expect(b.relativeAnchor).toEqual(a.relativeAnchor)
  })

  test("capture.json's [started_utc, header_utc] narrows what few lines leave open", () => {
    const start: ToolStart = { ms: (anchorUs + 2_000) / 1000, lowMs: (anchorUs - 150_000) / 1000, from: 'capture.json' }
    const clock = new SourceClock(fresh(), () => start)
    for (const l of lines(anchorUs, 3)) place(clock, l)
    const a = clock.relativeAnchor!
    expect(a.from).toBe('lines+capture.json')
    expect(a.width).toBeLessThanOrEqual(155_000)
    expect(a.point).toBeGreaterThanOrEqual(anchorUs - 151_000)
    expect(a.point).toBeLessThanOrEqual(anchorUs + 3_000)
  })

  test('capture.json that contradicts the lines is left out, not trusted over them', () => {
    const start: ToolStart = { ms: (anchorUs + 60_000_000) / 1000, lowMs: (anchorUs + 59_000_000) / 1000, from: 'capture.json' }
    const clock = new SourceClock(fresh(), () => start)
    for (const l of lines(anchorUs, 200)) place(clock, l)
    const a = clock.relativeAnchor!
    expect(a.from).toBe('lines')
    expect(Math.abs(a.point - anchorUs)).toBeLessThanOrEqual(10_000)
  })

  test('lines that contradict each other (a clock stepped by 2 s mid-capture) are flagged, not hidden', () => {
    const clock = new SourceClock(fresh(), () => undefined)
    const before = lines(anchorUs, 100)
    const after = lines(anchorUs + 2_000_000, 100, 3)
    for (const l of [...before, ...after]) place(clock, l)
    expect(clock.relativeAnchor!.conflict).toBe(true)
  })

  test('-t alone: anchored at the tool start capture.json gives (derived), else no timestamp (relative)', () => {
    const rel = { kind: 'relative', seconds: 1.5, since: 'tool_start', decimals: 3 } as const
    const startMs = Math.round(anchorUs / 1000)
    const withStart = new SourceClock(fresh(), () => ({ ms: startMs, from: 'capture.json' }))
    expect(withStart.normalize(rel)).toEqual({ ts: BigInt(startMs * 1000 + 1_500_000) * 1000n, precision: 'derived' })
    const without = new SourceClock(fresh(), () => undefined)
    expect(without.normalize(rel)).toEqual({ ts: null, precision: 'relative' })
  })
})

describe('an instance placed by its most precise evidence (instancesOf)', () => {
  const S = 1_796_140_191_000_000 // µs, a whole second
  const exit = (ts: number, age: number, width = 1_000_000): ExitRow => ({ line: 2, rank: 1, processId: null, pid: 9, ppid: 1, ts, width, age })
  const exec = (ts: number, width = 1_000): ExecRow => ({ line: 1, rank: 0, processId: null, pid: 9, ppid: 1, ts, width, ok: true })

  test('a ms exec and a whole-second exit: starts at the exec, exits at exec + AGE', () => {
    const [i] = instancesOf(9, [exec(S + 412_345)], [exit(S, 0.25)])
    expect(i).toMatchObject({ start: S + 412_345, startSource: 'exec', startPrecision: 'ms', exitTs: S + 662_345, exitPrecision: '10ms' })
  })

  test('an exec long after the fork (outside exit − AGE): the exit and AGE stand, to the second', () => {
    // exited in second S after 3 s: forked in S-3 .. S-2; exec'd at S-0.5 (a shell that ran a while, then exec'd)
    const [i] = instancesOf(9, [exec(S - 500_000)], [exit(S, 3)])
    expect(i).toMatchObject({ start: S - 3_000_000, startSource: 'exit_age', startPrecision: 's', exitTs: S, exitPrecision: 's' })
  })

  test('a ms exit (Python exitsnoop --utc) is not moved by an exec: start = exit − AGE', () => {
    const [i] = instancesOf(9, [exec(S + 100_000)], [exit(S + 350_000, 0.25, 1_000)])
    expect(i).toMatchObject({ start: S + 100_000, startSource: 'exit_age', startPrecision: '10ms', exitTs: S + 350_000, exitPrecision: 'ms' })
  })

  test('whole seconds everywhere: as before (start = exit − AGE)', () => {
    const [i] = instancesOf(9, [exec(S, 1_000_000)], [exit(S, 0.25)])
    expect(i).toMatchObject({ start: S - 250_000, startSource: 'exit_age', startPrecision: 's', exitTs: S, exitPrecision: 's' })
  })
})

const timeline = loadCatalog().get('timeline')!

interface Span {
  readonly name: string
  readonly start: number
  readonly exit: number
}

/** The scripts' [start, exit] (µs) from the timeline rows of run-parts' tree: exec row to exit row. */
function timelineSpans(store: Store): Span[] {
  const rows = runQuery(store, timeline, bindParams(timeline, [String(RUN_PARTS), '-1']), resolveCapture(store).id).rows as Record<string, Value>[]
  return SCRIPTS.map((name) => {
    const mine = rows.filter((r) => r.comm === name && r.pid !== null)
    // 06-subshell also names the subshell it forked: the script is the one that exec'd
    const exec = mine.find((r) => r.tool === 'execsnoop')!
    const exit = mine.find((r) => r.tool === 'exitsnoop' && r.pid === exec.pid)!
    expect(exit.precision).not.toBe('s')
    return { name, start: Date.parse(String(exec.time_utc)) * 1000, exit: Date.parse(String(exit.time_utc)) * 1000 }
  })
}

/** The scripts' [start, exit] (µs from the trace's origin) from the export's process slices. */
async function exportSpans(store: Store): Promise<Span[]> {
  const trace = await exportPerfetto(sqliteReader(store), { captureId: resolveCapture(store).id, pid: RUN_PARTS })
  const slices = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'process')
  return SCRIPTS.map((name) => {
    const s = slices.filter((e) => e.name === name).sort((a, b) => a.ts! - b.ts!)[0]!
    return { name, start: s.ts!, exit: s.ts! + s.dur! }
  })
}

function expectOneAfterAnother(spans: readonly Span[]): void {
  for (let i = 1; i < spans.length; i++) {
    const prev = spans[i - 1]!
    const cur = spans[i]!
    // each starts after the previous one exits (within 10 ms), and after it started
    expect(cur.start, `${cur.name} starts ${String((prev.exit - cur.start) / 1000)} ms before ${prev.name} exits`).toBeGreaterThanOrEqual(prev.exit - WITHIN)
    expect(cur.start).toBeGreaterThan(prev.start)
    expect(prev.exit).toBeGreaterThanOrEqual(prev.start)
  }
}

describe('the runparts-ms capture (execsnoop -T -t -U -x, exitsnoop -t)', () => {
  let store: Store
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tracedb-placement-'))
    store = openStore(join(dir, 't.db'))
    await ingest(store, { paths: [FIXTURE], capture: 'runparts' })
  })

  test('the anchor comes from the lines, to a few ms, and every exec row is placed from it', () => {
    const src = store.sqlite
      .prepare("SELECT rel_anchor_ts, rel_anchor_error_ms, rel_anchor_source, rel_anchor_lines FROM source WHERE path LIKE '%execsnoop.log'")
      .get() as { rel_anchor_ts: number; rel_anchor_error_ms: number; rel_anchor_source: string; rel_anchor_lines: number }
    expect(src.rel_anchor_source).toMatch(/^lines/)
    expect(src.rel_anchor_lines).toBe(620)
    expect(src.rel_anchor_error_ms).toBeLessThanOrEqual(5)
    // within capture.json's [started_utc, header_utc]
    const meta = JSON.parse(readFileSync(join(FIXTURE, 'capture.json'), 'utf8')) as { tools: { execsnoop: { started_utc: string; header_utc: string } } }
    const anchorMs = src.rel_anchor_ts / 1e6
    expect(anchorMs).toBeGreaterThanOrEqual(Date.parse(meta.tools.execsnoop.started_utc))
    expect(anchorMs).toBeLessThanOrEqual(Date.parse(meta.tools.execsnoop.header_utc))
    const off = store.sqlite
      .prepare(
        `SELECT count(*) FROM execsnoop_event e WHERE e.ts IS NULL OR e.ts_precision != '10ms'
           OR e.ts != (SELECT rel_anchor_ts FROM source s WHERE s.id = e.source_id) + CAST(round(e.elapsed_s * 1e6) AS INTEGER) * 1000`,
      )
      .pluck()
      .get()
    expect(off).toBe(0)
  })

  test('every exec row lies in the wall second printed beside it', () => {
    const rows = store.sqlite.prepare('SELECT time_text, ts FROM execsnoop_event').all() as { time_text: string; ts: number }[]
    expect(rows.length).toBe(620)
    for (const r of rows) {
      const printed = r.time_text.slice(0, 8)
      const at = new Date(r.ts / 1e6).toISOString().slice(11, 23)
      // a few ms of slack: the anchor is known to ± rel_anchor_error_ms
      const second = Date.parse(`${DATE}T${printed}Z`)
      expect(r.ts / 1e6, `${r.time_text} placed at ${at}`).toBeGreaterThanOrEqual(second - 5)
      expect(r.ts / 1e6, `${r.time_text} placed at ${at}`).toBeLessThan(second + 1005)
    }
  })

  test('exec\'d processes start at their exec and exit at start + AGE; the fork-only subshell sits inside its parent, around its child', () => {
    const p = (pid: number) =>
      store.sqlite
        .prepare('SELECT start_ts / 1000 AS start, exit_ts / 1000 AS exit, start_source, start_precision, exit_precision, lifetime_s FROM process WHERE pid = ?')
        .get(pid) as { start: number; exit: number; start_source: string; start_precision: string; exit_precision: string; lifetime_s: number }
    const exec = store.sqlite.prepare('SELECT ts / 1000 FROM execsnoop_event WHERE pid = ?').pluck()
    const header = p(19492)
    expect(header.start).toBe(exec.get(19492))
    expect(header.start_source).toBe('exec')
    expect(header.exit - header.start).toBe(Math.round(header.lifetime_s * 1e6))
    expect([header.start_precision, header.exit_precision]).toEqual(['10ms', '10ms'])
    // `( sleep 0.05; true )` in 06-subshell (19503): subshell 19504, its child sleep 19505
    const script = p(19503)
    const subshell = p(19504)
    const sleep = p(19505)
    expect(subshell.start_source).toBe('bounded')
    expect(subshell.start).toBeGreaterThanOrEqual(script.start)
    expect(subshell.start).toBeLessThanOrEqual(sleep.start)
    expect(subshell.exit).toBeGreaterThanOrEqual(sleep.exit - WITHIN)
    expect(subshell.exit).toBeLessThanOrEqual(script.exit + WITHIN)
    expect(subshell.start_precision).not.toBe('s')
  })

  test('timeline: the scripts under run-parts come out one after another (within 10 ms)', () => {
    expectOneAfterAnother(timelineSpans(store))
  })

  test('export: the scripts under run-parts are drawn one after another (within 10 ms)', async () => {
    expectOneAfterAnother(await exportSpans(store))
  })
})

describe('without capture.json, and with -t alone', () => {
  test('-T -t without capture.json: the lines alone give the same anchor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracedb-placement-nocj-'))
    const logs = join(dir, 'logs')
    mkdirSync(logs)
    for (const f of ['execsnoop.log', 'exitsnoop.log']) copyFileSync(join(FIXTURE, f), join(logs, f))
    const store = openStore(join(dir, 't.db'))
    try {
      await ingest(store, { paths: [logs], capture: 'nocj', date: DATE, tz: 'UTC' })
      const src = store.sqlite.prepare("SELECT rel_anchor_ts, rel_anchor_source FROM source WHERE path LIKE '%execsnoop.log'").get() as {
        rel_anchor_ts: number
        rel_anchor_source: string
      }
      expect(src.rel_anchor_source).toBe('lines')
      const withCj = openStore(join(dir, 'cj.db'))
      await ingest(withCj, { paths: [FIXTURE], capture: 'cj' })
      const ref = withCj.sqlite.prepare("SELECT rel_anchor_ts FROM source WHERE path LIKE '%execsnoop.log'").pluck().get() as number
      withCj.close()
      // capture.json's window (started..header) did not narrow what 620 lines pinned
      expect(src.rel_anchor_ts).toBe(ref)
      expectOneAfterAnother(timelineSpans(store))
    } finally {
      store.close()
    }
  })

  test('-t alone: anchored at capture.json\'s tool start (derived); without it the times stay relative, and a warning says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracedb-placement-t-'))
    // the fixture's execsnoop log without its TIME column: what `execsnoop -t -U -x` prints
    const relOnly = readFileSync(join(FIXTURE, 'execsnoop.log'), 'utf8')
      .split('\n')
      .map((l) => l.slice(9))
      .join('\n')
    for (const [name, cj] of [['with', true], ['without', false]] as const) {
      const logs = join(dir, name)
      mkdirSync(logs)
      writeFileSync(join(logs, 'execsnoop.log'), relOnly)
      if (cj) copyFileSync(join(FIXTURE, 'capture.json'), join(logs, 'capture.json'))
    }
    const store = openStore(join(dir, 't.db'))
    try {
      await ingest(store, { paths: [join(dir, 'with')], capture: 'with' })
      const meta = JSON.parse(readFileSync(join(FIXTURE, 'capture.json'), 'utf8')) as { tools: { execsnoop: { header_utc: string } } }
      const first = store.sqlite
        .prepare("SELECT e.ts, e.ts_precision, e.elapsed_s FROM execsnoop_event e JOIN capture c ON c.id = e.capture_id WHERE c.name = 'with' ORDER BY line_id LIMIT 1")
        .get() as { ts: number; ts_precision: string; elapsed_s: number }
      expect(first.ts_precision).toBe('derived')
      expect(Math.abs(first.ts - (Date.parse(meta.tools.execsnoop.header_utc) * 1e6 + first.elapsed_s * 1e9))).toBeLessThan(1e4)
      const src = store.sqlite.prepare("SELECT rel_anchor_source FROM source WHERE path LIKE '%/with/execsnoop.log'").pluck().get()
      expect(src).toBe('capture.json')
      const report = await ingest(store, { paths: [join(dir, 'without')], capture: 'without', date: DATE, tz: 'UTC' })
      expect(report.warnings.join('\n')).toMatch(/relative times left without timestamp/)
      const counts = store.sqlite
        .prepare("SELECT count(*) AS n, count(e.ts) AS placed, min(e.ts_precision) AS p FROM execsnoop_event e JOIN capture c ON c.id = e.capture_id WHERE c.name = 'without'")
        .get() as { n: number; placed: number; p: string }
      expect(counts).toEqual({ n: 620, placed: 0, p: 'relative' })
    } finally {
      store.close()
    }
  })
})

describe('incremental: a watcher reading the capture in small pieces gets what one pass gets', () => {
  function context(store: Store, meta: string): FileContext {
    const captureId = ensureCapture(store.sqlite, 'runparts', DATE, 'Etc/UTC', meta)
    return { store, captureId, formats: FORMATS, clockDate: DATE, clockTz: 'Etc/UTC', warnings: [], onProgress: undefined, derive: true }
  }

  test.each([
    ['small pieces', 700],
    ['a line at a time, about', 90],
  ])('%s (%i bytes)', async (_name, size) => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-placement-incr-'))
    const meta = readCaptureJson([FIXTURE], [])!.text
    // one pass
    const oneDir = join(root, 'one', 'logs')
    mkdirSync(oneDir, { recursive: true })
    for (const f of ['execsnoop.log', 'exitsnoop.log', 'capture.json']) copyFileSync(join(FIXTURE, f), join(oneDir, f))
    const one = openStore(join(root, 'one.db'))
    const r = await ingest(one, { paths: [oneDir], capture: 'runparts', derive: false })
    rederive(one.sqlite, r.captureId)
    const reference = canonicalDump(one, oneDir)
    one.close()
    // pieces, alternating the two files, derived batch by batch
    const dir = join(root, 'pieces', 'logs')
    mkdirSync(dir, { recursive: true })
    copyFileSync(join(FIXTURE, 'capture.json'), join(dir, 'capture.json'))
    const store = openStore(join(root, 'pieces.db'))
    try {
      const ctx = context(store, meta)
      const files = ['execsnoop.log', 'exitsnoop.log'].map((f) => ({ f, bytes: readFileSync(join(FIXTURE, f)), at: 0 }))
      let k = 0
      while (files.some((x) => x.at < x.bytes.length)) {
        const x = files[k++ % 2]!
        if (x.at >= x.bytes.length) continue
        const to = Math.min(x.bytes.length, x.at + size + (k % 3) * 37)
        appendFileSync(join(dir, x.f), x.bytes.subarray(x.at, to))
        x.at = to
        await ingestFile(ctx, join(dir, x.f), { final: false })
      }
      for (const x of files) await ingestFile(ctx, join(dir, x.f), { final: true })
      expect(canonicalDump(store, dir)).toEqual(reference)
      const moved = store.sqlite.prepare("SELECT count(*) FROM process WHERE start_source = 'bounded'").pluck().get() as number
      expect(moved).toBeGreaterThan(0)
    } finally {
      store.close()
    }
  }, 120_000)
})
