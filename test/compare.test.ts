import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { compareSummaries, describeChange } from '../src/compare.js'
import { ingest } from '../src/ingest/ingest.js'
import { loadCatalog, QUERIES_DIR } from '../src/queries/catalog.js'
import { openStore, type Store } from '../src/store/open.js'
import { sqliteReader } from '../src/store/reader.js'
import { runCli } from './helpers/cli.js'
import { EXECSNOOP_T_U_X_HEADER, EXITSNOOP_T_HEADER, execLine, exitLine } from './helpers/logs.js'

const FIXTURES = join(import.meta.dirname, 'fixtures', 'compare', 'queries')

/** One sshd login: a session shell (lifetime `session` s) running `commands`, plus `forks` fork-only children. */
function writeCapture(dir: string, o: { sshd: number; sshdArgs: string; session: number; commands: string[]; forks: number }): void {
  mkdirSync(dir, { recursive: true })
  const bash = o.sshd + 1
  const execs = [execLine('09:59:59', o.sshd, 1, 'sshd', o.sshdArgs), execLine('10:00:00', bash, o.sshd, 'bash', '/bin/bash')]
  const exits: string[] = []
  let pid = bash + 1
  for (const c of o.commands) {
    execs.push(execLine('10:00:00', pid, bash, c, `/usr/bin/${c}`))
    exits.push(exitLine('10:00:00', pid, bash, c, 0.01))
    pid++
  }
  for (let i = 0; i < o.forks; i++) exits.push(exitLine('10:00:00', pid++, bash, 'bash', 0.01))
  exits.push(exitLine('10:00:01', bash, o.sshd, 'bash', o.session))
  writeFileSync(join(dir, 'execsnoop.log'), [EXECSNOOP_T_U_X_HEADER, ...execs].join('\n') + '\n')
  writeFileSync(join(dir, 'exitsnoop.log'), [EXITSNOOP_T_HEADER, ...exits].join('\n') + '\n')
}

let dir: string
let db: string
let store: Store
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tracedb-compare-'))
  // before: 1000 sshd -> 1001 bash (0.74 s) -> ls, cat, cat + 1 fork-only bash
  writeCapture(join(dir, 'before'), { sshd: 1000, sshdArgs: '/usr/sbin/sshd -D', session: 0.74, commands: ['ls', 'cat', 'cat'], forks: 1 })
  // after: 2000 sshd -> 2001 bash (0.21 s) -> ls, id
  writeCapture(join(dir, 'after'), { sshd: 2000, sshdArgs: '/usr/sbin/sshd -D -p 2222', session: 0.21, commands: ['ls', 'id'], forks: 0 })
  db = join(dir, 'c.db')
  store = openStore(db)
  for (const name of ['before', 'after']) {
    const report = await ingest(store, { paths: [join(dir, name)], date: '2026-11-28', tz: 'UTC', capture: name })
    expect(report.files.map((f) => f.bad)).toEqual([0, 0])
  }
})

const mini = () => loadCatalog([QUERIES_DIR, FIXTURES]).get('mini-summary')!

const EXPECTED = [
  { section: 'processes', item: 'descendants', A: 5, B: 3, change: '-2 (-40%)' },
  { section: 'processes', item: "exec'd", A: 4, B: 3, change: '-1 (-25%)' },
  { section: 'processes', item: 'session s', A: 0.74, B: 0.21, change: '-0.53 (-71.6%)' },
  { section: 'root', item: 'args', A: '/usr/sbin/sshd -D', B: '/usr/sbin/sshd -D -p 2222', change: 'changed' },
  { section: 'commands', item: 'bash', A: 2, B: 1, change: '-1 (-50%)' },
  { section: 'commands', item: 'cat', A: 2, B: null, change: 'gone' },
  { section: 'commands', item: 'ls', A: 1, B: 1, change: '' },
  { section: 'commands', item: 'id', A: null, B: 1, change: 'new' },
]

describe('compareSummaries', () => {
  test('joins by (section, item): A order, then B-only rows; numeric, text, new and gone changes', async () => {
    const r = await compareSummaries(sqliteReader(store), { captureA: 'before', captureB: 'after', pidA: 1000, pidB: 2000, query: mini() })
    expect(r.columns).toEqual(['section', 'item', 'A', 'B', 'change'])
    expect(r.rows).toEqual(EXPECTED)
    expect([r.a.capture.name, r.a.pid, r.b.capture.name, r.b.pid, r.query]).toEqual(['before', 1000, 'after', 2000, 'mini-summary'])
  })

  test('by name with extra query dirs; B defaults to the capture of A, and A to the most recent capture', async () => {
    const r = await compareSummaries(sqliteReader(store), { pidA: 2000, query: 'mini-summary', queries: [FIXTURES] })
    expect([r.a.capture.name, r.b.capture.name, r.b.pid]).toEqual(['after', 'after', 2000])
    expect(r.rows.every((row) => row.change === '')).toBe(true)
    const reversed = await compareSummaries(sqliteReader(store), { captureA: 'after', captureB: 'before', pidA: 2000, pidB: 1000, query: mini() })
    expect(reversed.rows.slice(0, 3).map((row) => row.change)).toEqual(['+2 (+66.7%)', '+1 (+33.3%)', '+0.53 (+252.4%)'])
    expect(reversed.rows.filter((row) => row.change === 'new' || row.change === 'gone').map((row) => [row.item, row.change])).toEqual([
      ['id', 'gone'],
      ['cat', 'new'],
    ])
  })

  test('a root missing on one side: its rows have empty values, counts drop to 0', async () => {
    const r = await compareSummaries(sqliteReader(store), { captureA: 'before', captureB: 'after', pidA: 1000, pidB: 4242, query: mini() })
    expect(r.rows.slice(0, 3).map((row) => [row.item, row.B, row.change])).toEqual([
      ['descendants', 0, '-5 (-100%)'],
      ["exec'd", null, 'changed'],
      ['session s', null, 'changed'],
    ])
  })

  test('describeChange', () => {
    expect(describeChange(128, 3)).toBe('-125 (-97.7%)')
    expect(describeChange(740, 210)).toBe('-530 (-71.6%)')
    expect(describeChange(0, 3)).toBe('+3')
    expect(describeChange(3, 3)).toBe('')
    expect(describeChange(null, null)).toBe('')
    expect(describeChange('a', 'a')).toBe('')
    expect(describeChange('a', 'b')).toBe('changed')
    expect(describeChange(1, '1')).toBe('changed')
    expect(describeChange(0.1 + 0.2, 0.3)).toBe('')
    expect(describeChange(0.74, 0.21)).toBe('-0.53 (-71.6%)')
    expect(describeChange(1, 1.00002)).toBe('+0.00002')
    expect(describeChange(-2, -1)).toBe('+1 (+50%)')
    expect(describeChange(2 ** 53, 2 ** 53 + 2)).toBe('+2')
  })

  test('queries that are not summary-shaped are refused with a hint', async () => {
    await expect(compareSummaries(sqliteReader(store), { pidA: 1, query: 'captures' })).rejects.toThrow(/no pid parameter/)
    await expect(compareSummaries(sqliteReader(store), { pidA: 1, query: 'descendants' })).rejects.toThrow(/compare needs section, item and value/)
    await expect(compareSummaries(sqliteReader(store), { pidA: 1, query: 'nope' })).rejects.toThrow(/query "nope" not found/)
    await expect(compareSummaries(sqliteReader(store), { pidA: 1, captureB: 'zzz', query: mini() })).rejects.toThrow(/capture "zzz" not found/)
  })

  test('the default query: summary', async () => {
    // summary ships with tracedb and is compare's default: without it, this fails
    expect(existsSync(join(QUERIES_DIR, 'summary.sql')), join(QUERIES_DIR, 'summary.sql')).toBe(true)
    const r = await compareSummaries(sqliteReader(store), { captureA: 'before', captureB: 'after', pidA: 1000, pidB: 2000 })
    expect(r.query).toBe('summary')
    expect(r.columns).toEqual(['section', 'item', 'A', 'B', 'change'])
    const row = (section: string, item: string) => r.rows.find((x) => x.section === section && x.item === item)
    expect(row('descendants', 'total')).toEqual({ section: 'descendants', item: 'total', A: 5, B: 3, change: '-2 (-40%)' })
    expect(row('descendants', "exec'd")).toMatchObject({ A: 4, B: 3, change: '-1 (-25%)' })
    expect(row('descendants', 'fork-only')).toMatchObject({ A: 1, B: 0, change: '-1 (-100%)' })
  })
})

describe('tracedb compare', () => {
  const base = () => ['--capture', 'before', '--capture-b', 'after', '--queries', FIXTURES, '--query', 'mini-summary', '--db', db]

  test('--json', async () => {
    const r = await runCli('compare', '1000', '2000', ...base(), '--json')
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual(EXPECTED)
  })

  test('table: what A and B are, then the rows', async () => {
    const r = await runCli('compare', '1000', '2000', ...base())
    expect(r.code, r.stderr).toBe(0)
    const lines = r.stdout.split('\n')
    expect(lines[0]).toBe('A: pid 1000 in capture "before"   B: pid 2000 in capture "after"   (query mini-summary)')
    expect(lines[2]).toMatch(/^section +item +A +B +change *$/)
    expect(r.stdout).toMatch(/processes +descendants +5 +3 +-2 \(-40%\)/)
    expect(r.stdout).toMatch(/commands +id +1 +new/)
  })

  test('--csv', async () => {
    const r = await runCli('compare', '1000', '2000', ...base(), '--csv')
    expect(r.code, r.stderr).toBe(0)
    const lines = r.stdout.split('\r\n')
    expect(lines[0]).toBe('section,item,A,B,change')
    // a text cell starting with - could be run as a formula by a spreadsheet: neutralised (numbers are not)
    expect(lines[1]).toBe("processes,descendants,5,3,'-2 (-40%)")
    expect(lines).toContain('commands,cat,2,,gone')
  })

  test('help has an example', async () => {
    const r = await runCli('compare', '--help')
    expect(r.stdout).toMatch(/tracedb compare 1442 1501 --capture before --capture-b after/)
  })

  test('mistakes: one message with a hint, non-zero exit', async () => {
    const cases: [string[], RegExp][] = [
      [['compare', 'abc', '--db', db], /PID_A must be a process ID \(a number\), got "abc"/],
      [['compare', '1000', '2x', '--db', db], /PID_B must be a process ID/],
      [['compare', '1000', '2000', '--capture-b', 'zzz', '--db', db], /capture "zzz" not found/],
      [['compare', '1000', '--query', 'descendants', '--db', db], /compare needs section, item and value/],
      [['compare', '1000', '--query', 'nope', '--db', db], /query "nope" not found/],
    ]
    for (const [args, message] of cases) {
      const r = await runCli(...args)
      expect(r.stderr, args.join(' ')).toMatch(message)
      expect(r.stderr, args.join(' ')).toMatch(/hint: /)
      expect(r.stderr).not.toMatch(/\n\s+at /)
      expect(r.code, args.join(' ')).toBe(2)
    }
  })
})
