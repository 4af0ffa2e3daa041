import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, test } from 'vitest'
import { runCli } from './helpers/cli.js'
import { EXECSNOOP_T_U_X_HEADER, EXITSNOOP_T_HEADER, execLine, exitLine } from './helpers/logs.js'

/**
 * A local user execs processes whose argv (and, through the file name, comm)
 * hold escape sequences; execsnoop logs them verbatim. None may reach the
 * investigator's terminal live.
 */

/** Anything a terminal acts on instead of printing: C0 (but the line ends), DEL, C1, bidi overrides/isolates. */
// eslint-disable-next-line no-control-regex -- looking for control characters is the point
const LIVE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/

/** Sequences an attacker would use, with what they do. */
const SEQUENCES = {
  title: '\x1b]0;pwned\x07', // OSC 0: window title, BEL-terminated
  clear: '\x1b[2J\x1b[H', // erase the screen, cursor home
  link: '\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\', // OSC 8 hyperlink, ST-terminated
  csi8bit: '\u009b31m', // 8-bit CSI (C1), encoded as UTF-8
  bidi: '\u202etxt.exe\u202c', // right-to-left override
  formula: '=HYPERLINK("http://evil.example/","x")',
} as const

const ARGS = `/bin/sh -c true ${Object.values(SEQUENCES).join(' ')}`
const EVIL_COMM = 'ev\x1b[31mil' // a program file named with an escape: 10 bytes, fits comm's 15

let db: string
let logs: string
beforeAll(async () => {
  const root = mkdtempSync(join(tmpdir(), 'tracedb-hostile-'))
  db = join(root, 'h.db')
  logs = join(root, 'logs')
  mkdirSync(logs)
  writeFileSync(
    join(logs, 'execsnoop.log'),
    [
      EXECSNOOP_T_U_X_HEADER,
      // a line that does not parse: its raw text is shown by bad-lines
      `garbage ${SEQUENCES.clear}${SEQUENCES.link}`,
      execLine('10:00:01', 3001, 3000, 'sh', ARGS),
      execLine('10:00:01', 3002, 3001, EVIL_COMM, `./${EVIL_COMM} ${SEQUENCES.formula}`),
      execLine('10:00:01', 3003, 3001, '@evil', `+cmd|' /C calc'!A0 -2+3 ${SEQUENCES.title}`),
      execLine('10:00:01', 3004, 3001, 'echo', `/bin/echo ${SEQUENCES.csi8bit} ${SEQUENCES.bidi} ${SEQUENCES.link}`),
      // with -x, libbpf execsnoop prints an argument's newline raw: the next line continues the arguments
      // (a continuation holding control bytes is a bad line instead: test/ingest/continuation.test.ts)
      execLine('10:00:01', 3005, 3001, 'printf', '/usr/bin/printf a'),
      'b and more',
    ].join('\n') + '\n',
  )
  writeFileSync(
    join(logs, 'exitsnoop.log'),
    [
      EXITSNOOP_T_HEADER,
      exitLine('10:00:02', 3002, 3001, EVIL_COMM, 0.5),
      exitLine('10:00:02', 3003, 3001, '@evil', 0.25),
      exitLine('10:00:03', 3001, 3000, 'sh', 2.0),
    ].join('\n') + '\n',
  )
  const r = await runCli('ingest', logs, '--db', db, '--date', '2026-11-28', '--tz', 'UTC')
  expect(r.code, r.stderr).toBe(0)
  expect(r.stdout + r.stderr).not.toMatch(LIVE)
})

/** The table-mode commands an investigator runs on this capture. */
const TABLE_COMMANDS: readonly string[][] = [
  ['query', 'tree', '3000'],
  ['query', 'processes'],
  ['query', 'summary', '3000'],
  ['query', 'timeline', '3000'],
  ['query', 'descendants', '3000'],
  ['query', 'children', '3001'],
  ['query', 'lifetimes', '3000'],
  ['query', 'ancestors', '3002'],
  ['query', 'bad-lines'],
  ['compare', '3000'],
  ['why', '3000'],
  ['why', '3001', '--sessions', 'root'],
  ['why', '3000', '--vs', '3001'],
  ['sql', 'select comm, args from process'],
]

/** A small RFC 4180 reader: every cell of every record. */
function csvCells(text: string): string[] {
  const cells: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted && c === '"' && text[i + 1] === '"') {
      cell += '"'
      i++
    } else if (c === '"') {
      quoted = !quoted
    } else if (!quoted && (c === ',' || (c === '\r' && text[i + 1] === '\n'))) {
      cells.push(cell)
      cell = ''
      if (c === '\r') i++
    } else {
      cell += c
    }
  }
  return cells
}

const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/

describe('hostile log content', () => {
  test.each(TABLE_COMMANDS.map((args) => [args.join(' '), args] as const))('%s: no raw control character reaches the terminal', async (_name, args) => {
    const r = await runCli(...args, '--db', db)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout + r.stderr).not.toMatch(LIVE)
  })

  test('tree shows the sequences escaped where they were', async () => {
    const r = await runCli('query', 'tree', '3000', '--db', db)
    expect(r.stdout).toContain('3001 sh  /bin/sh -c true \\x1b]0;pwned\\x07 \\x1b[2J\\x1b[H')
    expect(r.stdout).toContain('3002 ev\\x1b[31mil  ./ev\\x1b[31mil =HYPERLINK(')
    expect(r.stdout).toContain('3004 echo  /bin/echo \\x9b31m \\u202etxt.exe\\u202c \\x1b]8;;http://evil.example/\\x1b\\\\click\\x1b]8;;\\x1b\\\\')
  })

  test('processes table: 8-bit CSI and the bidi override are visible escapes, and each row is one line', async () => {
    const r = await runCli('query', 'processes', '--db', db)
    expect(r.stdout).toContain('\\x9b31m \\u202etxt.exe\\u202c')
    // a newline inside the arguments is shown, not printed
    expect(r.stdout).toContain('/usr/bin/printf a\\nb and more')
    // header, 6 processes (3000 inferred), the count: no row was split
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(8)
  })

  test('--json keeps the exact strings', async () => {
    const r = await runCli('query', 'processes', '--db', db, '--json')
    expect(r.code, r.stderr).toBe(0)
    const rows = JSON.parse(r.stdout) as { pid: number; comm: string | null; args: string | null }[]
    expect(rows.find((x) => x.pid === 3001)?.args).toBe(ARGS)
    expect(rows.find((x) => x.pid === 3002)?.comm).toBe(EVIL_COMM)
    const tree = JSON.parse((await runCli('query', 'tree', '3000', '--db', db, '--json')).stdout) as { args: string | null }[]
    expect(tree.map((x) => x.args)).toContain(ARGS)
  })

  test('--csv: no cell a spreadsheet would run as a formula; the text is otherwise exact', async () => {
    for (const args of [['query', 'processes'], ['query', 'summary', '3000'], ['query', 'tree', '3000'], ['compare', '3000']]) {
      const r = await runCli(...args, '--db', db, '--csv')
      expect(r.code, r.stderr).toBe(0)
      const cells = csvCells(r.stdout)
      const live = cells.filter((c) => /^[=+\-@\t\r]/.test(c) && !PLAIN_NUMBER.test(c))
      expect(live, args.join(' ')).toEqual([])
    }
    const cells = csvCells((await runCli('query', 'processes', '--db', db, '--csv')).stdout)
    // neutralised with a leading quote, the rest exact (escapes included: CSV is data, not terminal output)
    expect(cells).toContain("'@evil")
    expect(cells).toContain(`'+cmd|' /C calc'!A0 -2+3 ${SEQUENCES.title}`)
    // not at the start of the cell: not a formula, left alone
    expect(cells).toContain(`./${EVIL_COMM} ${SEQUENCES.formula}`)
    expect(cells).toContain(ARGS)
  })

  test('errors that quote names and arguments are escaped', async () => {
    const r = await runCli('query', 'tree', '3000', '--db', db, '--capture', `x${SEQUENCES.clear}`)
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('capture "x\\x1b[2J\\x1b[H" not found')
    expect(r.stderr).not.toMatch(LIVE)
    const unknown = await runCli('query', `tree${SEQUENCES.title}`, '--db', db)
    expect(unknown.stderr).toContain('query "tree\\x1b]0;pwned\\x07" not found')
    expect(unknown.stderr).not.toMatch(LIVE)
    const usage = await runCli('compare', '3000', '--db', db, `--bogus${SEQUENCES.clear}`)
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('--bogus\\x1b[2J\\x1b[H')
    expect(usage.stderr).not.toMatch(LIVE)
  })

  test('ingest: file names with escapes are reported and warned about escaped', async () => {
    writeFileSync(join(logs, `notes${SEQUENCES.clear}.log`), `not a log ${SEQUENCES.title}\n`)
    // a new capture of real logs without --date/--tz: the warnings about the assumed date and zone name the file
    writeFileSync(join(logs, `exit${SEQUENCES.title}.log`), [EXITSNOOP_T_HEADER, exitLine('10:00:04', 3006, 3001, 'true', 0.1)].join('\n') + '\n')
    const r = await runCli('ingest', logs, '--db', db, '--capture', 'undated')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('notes\\x1b[2J\\x1b[H.log: skipped')
    expect(r.stdout).toContain('exit\\x1b]0;pwned\\x07.log: exitsnoop')
    expect(r.stderr).toMatch(/warning: .*exit\\x1b\]0;pwned\\x07\.log/)
    expect(r.stdout + r.stderr).not.toMatch(LIVE)
    const bad = await runCli('query', 'bad-lines', '--db', db, '--capture', 'undated')
    expect(bad.stdout).toContain('garbage \\x1b[2J\\x1b[H\\x1b]8;;')
  })
})
