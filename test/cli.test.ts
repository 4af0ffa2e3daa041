import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { buildProgram } from '../src/cli/main.js'
import { FORMATS } from '../src/formats/index.js'
import { loadCatalog } from '../src/queries/catalog.js'
import { runCli } from './helpers/cli.js'
import { EXECSNOOP_T_U_X_HEADER, EXITSNOOP_T_HEADER, execLine, exitLine } from './helpers/logs.js'

let dir: string
let db: string
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tracedb-cli-'))
  db = join(dir, 'cli.db')
  const logs = join(dir, 'logs')
  mkdirSync(logs)
  writeFileSync(
    join(logs, 'execsnoop.log'),
    [EXECSNOOP_T_U_X_HEADER, execLine('10:00:01', 2001, 2000, 'bash', '/bin/bash -l'), execLine('10:00:02', 2003, 2001, 'id', '/usr/bin/id')].join('\n') + '\n',
  )
  writeFileSync(
    join(logs, 'exitsnoop.log'),
    [EXITSNOOP_T_HEADER, exitLine('10:00:02', 2003, 2001, 'id', 0.01), exitLine('10:00:03', 2000, 1442, 'sshd', 3.0)].join('\n') + '\n',
  )
  const r = await runCli('ingest', logs, '--db', db, '--date', '2026-11-28', '--tz', 'UTC')
  expect(r.code, r.stderr).toBe(0)
})

describe('tracedb CLI', () => {
  test('ingest prints a summary per file', async () => {
    const r = await runCli('ingest', join(dir, 'logs'), '--db', db)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/execsnoop\.log: execsnoop \(.*\): unchanged, 0 new lines/)
    expect(r.stdout).toMatch(/2 files, 0 new lines/)
  })

  test('query descendants --json gives numbers for pid and ppid', async () => {
    const r = await runCli('query', 'descendants', '1442', '--db', db, '--json')
    expect(r.code, r.stderr).toBe(0)
    const rows = JSON.parse(r.stdout) as { pid: number; ppid: number }[]
    expect(rows.map((x) => x.pid)).toEqual([2000, 2001, 2003])
    expect(typeof rows[0]!.ppid).toBe('number')
  })

  test('query tree draws a tree', async () => {
    const r = await runCli('query', 'tree', '1442', '--db', db)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('1442')
    expect(r.stdout).toMatch(/└─ 2000 sshd/)
    expect(r.stdout).toMatch(/ {3}└─ 2001 bash {2}\/bin\/bash -l/)
  })

  test('query --csv and -p', async () => {
    const r = await runCli('query', 'children', '-p', 'pid', '2001', '--db', db, '--csv')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.split('\r\n')[0]).toMatch(/^id,pid,ppid,comm/)
    expect(r.stdout).toContain(',2003,2001,id,')
  })

  test('query --list and NAME --help', async () => {
    const list = await runCli('query', '--list', '--db', db)
    for (const name of loadCatalog().keys()) expect(list.stdout).toContain(name)
    const help = await runCli('query', 'descendants', '--help')
    expect(help.stdout).toMatch(/Usage: tracedb query descendants PID/)
    expect(help.stdout).toMatch(/pid +integer/)
  })

  test('sql is read-only unless --write', async () => {
    const ok = await runCli('sql', 'select count(*) as n from process', '--db', db, '--json')
    expect(JSON.parse(ok.stdout)).toEqual([{ n: 4 }])
    const denied = await runCli('sql', 'delete from process', '--db', db)
    expect(denied.code).toBe(2)
    expect(denied.stderr).toMatch(/tracedb sql is read-only: refused DELETE/)
  })

  test('a parameter is data, never SQL', async () => {
    const r = await runCli('query', 'processes', '1; DROP TABLE process', '--db', db, '--json')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual([])
    const still = await runCli('sql', 'select count(*) as n from process', '--db', db, '--json')
    expect(JSON.parse(still.stdout)).toEqual([{ n: 4 }])
  })

  test('user mistakes: one clear message, non-zero exit, no stack', async () => {
    const cases: [string[], RegExp, number][] = [
      [['query', 'nope', '--db', db], /query "nope" not found/, 2],
      [['query', 'descendants', '--db', db], /needs parameter "pid"/, 2],
      [['query', 'descendants', 'abc', '--db', db], /must be an integer, got "abc"/, 2],
      [['query', 'descendants', '1', '--capture', 'zzz', '--db', db], /capture "zzz" not found/, 2],
      [['query', 'descendants', '1', '--db', join(dir, 'missing.db')], /does not exist/, 2],
      [['ingest', join(dir, 'no-such-dir'), '--db', db], /cannot read/, 1],
      [['ingest', join(dir, 'logs'), '--tz', 'Mars/Base', '--db', db], /unknown time zone/, 2],
    ]
    for (const [args, message, code] of cases) {
      const r = await runCli(...args)
      expect(r.stderr, args.join(' ')).toMatch(message)
      expect(r.stderr).not.toMatch(/\n\s+at /)
      expect(r.code, args.join(' ')).toBe(code)
    }
  })

  test('schema explains columns', async () => {
    const r = await runCli('schema', 'process', '--db', db)
    expect(r.stdout).toMatch(/lifetime_s +REAL +seconds from start to exit/)
  })

  test('every command has a description and the README lists every command and format', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8')
    for (const c of buildProgram().commands) {
      expect(c.description().length).toBeGreaterThan(20)
      expect(readme).toContain(`tracedb ${c.name()}`)
    }
    for (const f of FORMATS) expect(readme).toContain(`\`${f.name}\``)
    for (const q of loadCatalog().keys()) expect(readme).toContain(`\`${q}\``)
  })
})

test('the README query and format tables are generated from the code (npm run docs)', async () => {
  const { updateReadme } = await import('../src/docs.js')
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8')
  expect(updateReadme(readme), 'README.md is stale: run `npm run docs`').toBe(readme)
})
