import { mkdtempSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { ingest } from '../../src/ingest/ingest.js'
import { loadCatalog } from '../../src/queries/catalog.js'
import { bindParams, resolveCapture, runQuery } from '../../src/queries/run.js'
import { openStore, type Store } from '../../src/store/open.js'
import { EXECSNOOP_T_U_X_HEADER, EXITSNOOP_T_HEADER, execLine, exitLine } from '../helpers/logs.js'

const catalog = loadCatalog()

function query(store: Store, name: string, args: string[], capture?: string) {
  const q = catalog.get(name)!
  return runQuery(store, q, bindParams(q, args), resolveCapture(store, capture).id).rows
}

/**
 * A login-like tree: daemon 1442 (seen only as a PPID) forks 2000 (no exec),
 * which forks 2001 (exec bash), which forks 2002 (no exec), which forks 2003
 * (exec id). 14420 is unrelated; PID 2003 is reused later outside the tree.
 */
const EXEC = [
  EXECSNOOP_T_U_X_HEADER,
  execLine('10:00:01', 2001, 2000, 'bash', '/bin/bash -l'),
  execLine('10:00:02', 2003, 2002, 'id', '/usr/bin/id -u'),
  execLine('10:00:02', 14420, 1, 'cron', '/usr/sbin/cron -f'),
  execLine('10:00:30', 2003, 1, 'sleep', '/bin/sleep 1'),
]
const EXIT = [
  EXITSNOOP_T_HEADER,
  exitLine('10:00:02', 2003, 2002, 'id', 0.01),
  exitLine('10:00:02', 2002, 2001, 'bash', 0.5),
  exitLine('10:00:03', 2001, 2000, 'bash', 2.1, 'code 1'),
  exitLine('10:00:04', 2000, 1442, 'sshd', 3.6),
  exitLine('10:00:31', 2003, 1, 'sleep', 1.0, 'signal 9 (Killed)'),
]

let dir: string
let store: Store
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tracedb-ingest-'))
  store = openStore(join(dir, 'test.db'))
})
afterEach(() => store.close())

function writeCapture(name: string, files: Record<string, string[]>): string {
  const d = join(dir, name)
  mkdirSync(d, { recursive: true })
  for (const [f, lines] of Object.entries(files)) writeFileSync(join(d, f), lines.join('\n') + '\n')
  return d
}

const pids = (rows: readonly Record<string, unknown>[]) => rows.map((r) => r.pid).sort((a, b) => Number(a) - Number(b))

describe('process tree', () => {
  test('descendants bridge forks without exec through exitsnoop, exactly', async () => {
    const d = writeCapture('login', { 'execsnoop.log': EXEC, 'exitsnoop.log': EXIT })
    const report = await ingest(store, { paths: [d], date: '2026-11-28', tz: 'UTC' })
    expect(report.files.map((f) => [f.format, f.records, f.bad])).toEqual([
      ['execsnoop', 4, 0],
      ['exitsnoop', 5, 0],
    ])
    const rows = query(store, 'descendants', ['1442'])
    expect(pids(rows)).toEqual([2000, 2001, 2002, 2003])
    const byPid = Object.fromEntries(rows.map((r) => [r.pid, r]))
    expect(byPid[2000]).toMatchObject({ depth: 1, seen: 'fork', comm: 'sshd', lifetime_s: 3.6 })
    expect(byPid[2001]).toMatchObject({ depth: 2, seen: 'exec', args: '/bin/bash -l', exit_status: 'code 1' })
    expect(byPid[2002]).toMatchObject({ depth: 3, seen: 'fork' })
    expect(byPid[2003]).toMatchObject({ depth: 4, seen: 'exec', comm: 'id', start_utc: '2026-11-28T10:00:01.990Z' })
    // the reused PID 2003 is a different instance outside the tree
    expect(query(store, 'processes', ['sleep'])).toHaveLength(1)
    expect(query(store, 'processes', ['sleep'])[0]).toMatchObject({ pid: 2003, ppid: 1 })
  })

  test('exact PID matching: 1442 never matches 14420', async () => {
    const d = writeCapture('login', { 'execsnoop.log': EXEC, 'exitsnoop.log': EXIT })
    await ingest(store, { paths: [d], date: '2026-11-28', tz: 'UTC' })
    const all = query(store, 'descendants', ['1442'])
    expect(all.some((r) => r.pid === 14420)).toBe(false)
    expect(query(store, 'descendants', ['144'])).toEqual([])
  })

  test('ancestors, children, lifetimes and the inferred root', async () => {
    const d = writeCapture('login', { 'execsnoop.log': EXEC, 'exitsnoop.log': EXIT })
    await ingest(store, { paths: [d], date: '2026-11-28', tz: 'UTC' })
    const up = query(store, 'ancestors', ['2003'])
    const first = up.filter((r) => r.instance === up[0]!.instance).map((r) => r.pid)
    expect(first).toEqual([2003, 2002, 2001, 2000, 1442])
    expect(up.find((r) => r.pid === 1442)).toMatchObject({ inferred: 1 })
    expect(pids(query(store, 'children', ['2001']))).toEqual([2002])
    expect(query(store, 'lifetimes', ['1442']).map((r) => r.pid)).toEqual([2000, 2001, 2002, 2003])
    expect(query(store, 'tree', ['1442']).map((r) => r.pid)).toEqual([1442, 2000, 2001, 2002, 2003])
    expect(query(store, 'tree', ['1442'])[0]).toMatchObject({ parent_id: null, seen: 'inferred' })
  })

  test('an exec whose process outlived the capture has an unknown lifetime', async () => {
    const d = writeCapture('live', { 'execsnoop.log': [...EXEC, execLine('10:00:40', 3000, 2001, 'vim', '/usr/bin/vim')], 'exitsnoop.log': EXIT })
    await ingest(store, { paths: [d], date: '2026-11-28', tz: 'UTC' })
    const vim = query(store, 'processes', ['vim'])[0]!
    expect(vim.lifetime_s).toBeNull()
    const life = query(store, 'lifetimes', ['1442']).find((r) => r.pid === 3000)
    expect(life).toBeUndefined() // 2001 had exited at 10:00:03, so vim's parent is an inferred 2001
  })
})

describe('idempotent, resumable, order independent', () => {
  const snapshot = (s: Store) => query(s, 'descendants', ['1442']).map(({ id: _id, ...rest }) => rest)

  test('ingesting twice adds nothing', async () => {
    const d = writeCapture('login', { 'execsnoop.log': EXEC, 'exitsnoop.log': EXIT })
    await ingest(store, { paths: [d], date: '2026-11-28', tz: 'UTC' })
    const before = store.sqlite.prepare('SELECT count(*) FROM log_line').pluck().get()
    const again = await ingest(store, { paths: [d], date: '2026-11-28', tz: 'UTC' })
    expect(again.files.map((f) => [f.status, f.lines])).toEqual([
      ['unchanged', 0],
      ['unchanged', 0],
    ])
    expect(store.sqlite.prepare('SELECT count(*) FROM log_line').pluck().get()).toBe(before)
  })

  test('a grown file adds only its new lines; exitsnoop before execsnoop gives the same tree', async () => {
    const d = join(dir, 'grow')
    mkdirSync(d)
    // exitsnoop first, execsnoop later and in two pieces
    writeFileSync(join(d, 'exitsnoop.log'), EXIT.join('\n') + '\n')
    await ingest(store, { paths: [d], date: '2026-11-28', tz: 'UTC' })
    writeFileSync(join(d, 'execsnoop.log'), EXEC.slice(0, 2).join('\n') + '\n')
    await ingest(store, { paths: [d], date: '2026-11-28', tz: 'UTC' })
    appendFileSync(join(d, 'execsnoop.log'), EXEC.slice(2).join('\n') + '\n')
    const r = await ingest(store, { paths: [d], date: '2026-11-28', tz: 'UTC' })
    expect(r.files.find((f) => f.path.endsWith('execsnoop.log'))).toMatchObject({ status: 'grown', lines: 3 })

    const other = openStore(join(dir, 'other.db'))
    try {
      const d2 = writeCapture('grow2', { 'execsnoop.log': EXEC, 'exitsnoop.log': EXIT })
      await ingest(other, { paths: [d2], capture: 'grow', date: '2026-11-28', tz: 'UTC' })
      expect(snapshot(store)).toEqual(snapshot(other))
    } finally {
      other.close()
    }
  })

  test('a partial last line is stored, then replaced when its newline arrives', async () => {
    const d = join(dir, 'partial')
    mkdirSync(d)
    const path = join(d, 'execsnoop.log')
    writeFileSync(path, EXEC.slice(0, 2).join('\n') + '\n' + EXEC[2]!.slice(0, 20))
    const first = await ingest(store, { paths: [d], date: '2026-11-28', tz: 'UTC' })
    expect(first.files[0]).toMatchObject({ lines: 3, bad: 1 })
    appendFileSync(path, EXEC[2]!.slice(20) + '\n')
    const second = await ingest(store, { paths: [d], date: '2026-11-28', tz: 'UTC' })
    expect(second.files[0]).toMatchObject({ lines: 1, records: 1, bad: 0 })
    const kinds = store.sqlite.prepare('SELECT line_no, kind, partial FROM log_line ORDER BY line_no').all()
    expect(kinds).toEqual([
      { line_no: 1, kind: 'header', partial: 0 },
      { line_no: 2, kind: 'record', partial: 0 },
      { line_no: 3, kind: 'record', partial: 0 },
    ])
  })

  test('a truncated and rewritten file becomes a new source; old lines are kept', async () => {
    const d = writeCapture('rewrite', { 'execsnoop.log': EXEC })
    await ingest(store, { paths: [d], date: '2026-11-28', tz: 'UTC' })
    writeFileSync(join(d, 'execsnoop.log'), [EXEC[0]!, EXEC[1]!].join('\n') + '\n')
    const r = await ingest(store, { paths: [d], date: '2026-11-28', tz: 'UTC' })
    expect(r.files[0]).toMatchObject({ status: 'replaced', lines: 2 })
    expect(store.sqlite.prepare("SELECT state FROM source ORDER BY id").pluck().all()).toEqual(['replaced', 'active'])
  })
})

describe('bad input', () => {
  test('malformed lines are stored with a reason; unknown files are skipped and reported', async () => {
    const d = writeCapture('bad', {
      'execsnoop.log': [EXEC[0]!, EXEC[1]!, 'garbage that is not a row', EXEC[2]!],
      'notes.txt': ['hello', 'world'],
    })
    writeFileSync(join(d, 'binary.bin'), Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 0x80, 0x81, 10]))
    const r = await ingest(store, { paths: [d], date: '2026-11-28', tz: 'UTC' })
    const byName = Object.fromEntries(r.files.map((f) => [f.path.split('/').at(-1), f]))
    expect(byName['notes.txt']).toMatchObject({ status: 'skipped' })
    expect(byName['notes.txt']!.reason).toMatch(/not a known tool's log/)
    expect(byName['binary.bin']).toMatchObject({ status: 'skipped' })
    // the garbage line is either a continuation of the row before (libbpf args
    // may contain raw newlines) or bad with a reason: it is never dropped
    const stored = store.sqlite.prepare("SELECT kind, detail FROM log_line WHERE raw = 'garbage that is not a row'").get() as { kind: string }
    expect(['continuation', 'bad']).toContain(stored.kind)
    expect(byName['execsnoop.log']).toMatchObject({ records: 2 })
  })
})

describe('captures', () => {
  test('two captures side by side; --capture selects', async () => {
    const a = writeCapture('before', { 'execsnoop.log': EXEC, 'exitsnoop.log': EXIT })
    const b = writeCapture('after', { 'execsnoop.log': EXEC.slice(0, 2), 'exitsnoop.log': [EXIT[0]!, EXIT[4]!] })
    await ingest(store, { paths: [a], date: '2026-11-28', tz: 'UTC' })
    await ingest(store, { paths: [b], date: '2026-11-28', tz: 'UTC' })
    expect(query(store, 'descendants', ['1442'], 'before')).toHaveLength(4)
    expect(pids(query(store, 'descendants', ['1442'], 'after'))).toEqual([2000, 2001])
    expect(pids(query(store, 'descendants', ['1442']))).toEqual([2000, 2001]) // most recent
  })
})


describe('one timeline: relative clocks anchored to the tool start', () => {
  test('execsnoop -t counts from capture.json\'s tool start; precision says derived', async () => {
    const d = writeCapture('rel', {
      'execsnoop.log': ['TIME(s)  PCOMM            PID    PPID   RET ARGS', '1.970   work_exec.sh     12533  12486    0 /tmp/work_exec.sh '],
      'exitsnoop.log': [EXITSNOOP_T_HEADER, exitLine('10:00:03.250', 12533, 12486, 'work_exec.sh', 1.3)],
    })
    writeFileSync(
      join(d, 'capture.json'),
      JSON.stringify({
        start_utc: '2026-11-28T10:00:00.000Z',
        tz: 'UTC',
        tools: { execsnoop: { log: 'execsnoop.log', header_utc: '2026-11-28T10:00:00.100Z' }, exitsnoop: { log: 'exitsnoop.log' } },
      }),
    )
    await ingest(store, { paths: [d] })
    const e = store.sqlite.prepare('SELECT ts, ts_precision FROM execsnoop_event').get() as { ts: number; ts_precision: string }
    expect(e.ts_precision).toBe('derived')
    expect(new Date(e.ts / 1e6).toISOString()).toBe('2026-11-28T10:00:02.070Z')
    const x = store.sqlite.prepare('SELECT ts_precision FROM exitsnoop_event').pluck().get()
    expect(x).toBe('ms')
  })

  test('without capture.json, the file\'s creation time anchors them, with a warning', async () => {
    const d = writeCapture('rel2', {
      'execsnoop.log': ['TIME(s)  PCOMM            PID    PPID   RET ARGS', '1.970   work_exec.sh     12533  12486    0 /tmp/work_exec.sh '],
    })
    const report = await ingest(store, { paths: [d], tz: 'UTC' })
    expect(report.warnings.join('\n')).toMatch(/relative times counted from the file's creation time/)
    const e = store.sqlite.prepare('SELECT ts, ts_precision FROM execsnoop_event').get() as { ts: number | null; ts_precision: string }
    expect(e.ts_precision).toBe('derived')
    expect(Math.abs((e.ts ?? 0) / 1e6 - Date.now())).toBeLessThan(60_000)
  })

  test('with --date but no capture.json, they stay without timestamp (a copied file\'s creation time would lie)', async () => {
    const d = writeCapture('rel3', {
      'execsnoop.log': ['TIME(s)  PCOMM            PID    PPID   RET ARGS', '1.970   work_exec.sh     12533  12486    0 /tmp/work_exec.sh '],
    })
    const report = await ingest(store, { paths: [d], date: '2026-11-28', tz: 'UTC' })
    expect(report.warnings.join('\n')).toMatch(/relative times left without timestamp/)
    expect(store.sqlite.prepare('SELECT ts, ts_precision FROM execsnoop_event').get()).toEqual({ ts: null, ts_precision: 'relative' })
  })
})
