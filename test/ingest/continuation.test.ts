import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import execsnoop from '../../src/formats/execsnoop.js'
import { FORMATS } from '../../src/formats/index.js'
import { ingest } from '../../src/ingest/ingest.js'
import { parseText, SourceParser } from '../../src/ingest/source-parser.js'
import { openStore, type Store } from '../../src/store/open.js'
import { EXECSNOOP_T_U_X_HEADER, EXITSNOOP_T_HEADER, execLine, exitLine } from '../helpers/logs.js'

/**
 * libbpf execsnoop prints raw newlines inside arguments, so a line after a
 * row that is not a row may be the rest of an argument. Other tools' rows
 * and lines with control bytes are not: they are bad lines with a reason.
 */

const RECORD = execLine('03:31:44', 12907, 12899, 'echo', '/bin/echo line1').slice(0, -1) // the argument goes on
const NEXT = execLine('03:31:45', 12908, 12899, 'true', '/bin/true')

/** header, a row whose ARGS go on, `line`, the next row: kinds, details and the first row's args. */
function afterRecord(line: string, formats = [execsnoop]) {
  const p = parseText([EXECSNOOP_T_U_X_HEADER, RECORD, line, NEXT].join('\n') + '\n', formats)
  return { kind: p.lines[2]!.kind, detail: p.lines[2]!.detail, args: p.records[0]!.values.args, records: p.records.length }
}

describe('real continuation lines still continue the row', () => {
  test.each([
    ['the rest of an argument', 'line2 ', '/bin/echo line1\nline2'],
    ['a tab-indented script line', '\techo "$i" ', '/bin/echo line1\n\techo "$i"'],
    ['a script line with numbers', '  for i in 1 2 3; do sleep 0.5; done ', '/bin/echo line1\n  for i in 1 2 3; do sleep 0.5; done'],
    ['digits only', '2001 2000 0 ', '/bin/echo line1\n2001 2000 0'],
    ['a time of day', '12:00:01 wake up ', '/bin/echo line1\n12:00:01 wake up'],
    ['non-ASCII text', 'héllo wörld ✓ ', '/bin/echo line1\nhéllo wörld ✓'],
    ['a closing quote', "' ", "/bin/echo line1\n'"],
  ])('%s', (_name, line, args) => {
    expect(afterRecord(line)).toMatchObject({ kind: 'continuation', args, records: 2 })
  })
})

describe('other tools\' rows are not continuations', () => {
  test('an interleaved exitsnoop row is a bad line naming both', () => {
    expect(afterRecord(exitLine('03:31:45', 2003, 2002, 'id', 0.01))).toEqual({
      kind: 'bad',
      detail: 'looks like an exitsnoop record, not a continuation of the execsnoop record at line 2',
      args: '/bin/echo line1',
      records: 2,
    })
  })

  // every sample row of every other registered tool, offered only execsnoop
  // (as with `--format execsnoop`): the registry is still consulted. The tool
  // named is the first whose row it could be (tcpaccept and tcpconnect rows
  // look alike).
  const others = FORMATS.filter((f) => f !== execsnoop).flatMap((f) =>
    f.samples.flatMap((s) => s.lines.map((line) => [f.name, line] as const)),
  )
  test.each(others)('a %s row: %s', (_name, line) => {
    const r = afterRecord(line)
    expect(r.kind).toBe('bad')
    expect(r.detail).toMatch(/^looks like an? \w+ record, not a continuation of the execsnoop record at line 2$/)
    expect(r.args).toBe('/bin/echo line1')
  })

  test('another tool\'s header', () => {
    expect(afterRecord(EXITSNOOP_T_HEADER)).toMatchObject({ kind: 'bad', detail: expect.stringMatching(/^looks like an exitsnoop header, /) as unknown })
  })

  test('an execsnoop row of another layout (a second instance without -T -U)', () => {
    expect(afterRecord('sh               2001   2000     0 /bin/sh ')).toMatchObject({
      kind: 'bad',
      detail: expect.stringMatching(/^looks like an execsnoop record of another layout \(libbpf-or-python-old\), /) as unknown,
      args: '/bin/echo line1',
    })
  })
})

describe('lines with control bytes are not continuations', () => {
  test.each([
    ['NULs (a file pre-allocated before a crash)', '\0\0\0\0\0\0', 'U+0000'],
    ['a terminal escape', '\x1b[31mred\x1b[0m ', 'U+001B'],
    ['BEL', 'ding\x07 ', 'U+0007'],
    ['a carriage return inside the line', 'over\rwritten ', 'U+000D'],
    ['DEL', 'x\x7f ', 'U+007F'],
    ['a C1 control (NEL)', 'a\u0085b ', 'U+0085'],
  ])('%s', (_name, line, code) => {
    expect(afterRecord(line)).toEqual({
      kind: 'bad',
      detail: `control bytes (${code}): not a continuation of the execsnoop record at line 2`,
      args: '/bin/echo line1',
      records: 2,
    })
  })

  test('the line after a rejected one is not glued on either', () => {
    const p = parseText([EXECSNOOP_T_U_X_HEADER, RECORD, '\0\0', 'line2 '].join('\n') + '\n', [execsnoop])
    expect(p.lines.map((l) => l.kind)).toEqual(['header', 'record', 'bad', 'bad'])
    expect(p.records[0]!.values.args).toBe('/bin/echo line1')
  })
})

describe('record line numbers across a resumed parse', () => {
  test('a resumed parser keeps counting', () => {
    const first = new SourceParser([execsnoop])
    for (const line of [EXECSNOOP_T_U_X_HEADER, NEXT, RECORD]) first.push(line)
    const resumed = new SourceParser([execsnoop], JSON.parse(JSON.stringify(first.state)) as typeof first.state)
    expect(resumed.push('\x1b').result).toEqual({ kind: 'bad', reason: 'control bytes (U+001B): not a continuation of the execsnoop record at line 3' })
  })

  test('a state stored before lines were counted gives no line number', () => {
    const first = new SourceParser([execsnoop])
    for (const line of [EXECSNOOP_T_U_X_HEADER, RECORD]) first.push(line)
    const { lines: _lines, recordLine: _recordLine, ...old } = first.state
    const resumed = new SourceParser([execsnoop], old)
    expect(resumed.push('\x1b').result).toEqual({ kind: 'bad', reason: 'control bytes (U+001B): not a continuation of the execsnoop record' })
  })

  test('a partial last line is not counted (it is pushed again once complete)', () => {
    const p = new SourceParser([execsnoop])
    p.push(EXECSNOOP_T_U_X_HEADER)
    p.push(RECORD.slice(0, 20), true)
    p.push(RECORD)
    expect(p.push('\x1b').result).toMatchObject({ reason: expect.stringMatching(/record at line 2$/) as unknown })
  })
})

describe('ingest', () => {
  let dir: string
  let store: Store
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tracedb-continuation-'))
    store = openStore(join(dir, 'test.db'))
  })
  afterEach(() => store.close())

  test('an interleaved exitsnoop row and a junk line are bad lines; ARGS keep only the real continuation', async () => {
    const log = [
      EXECSNOOP_T_U_X_HEADER,
      RECORD,
      'line2',
      exitLine('03:31:45', 2003, 2002, 'id', 0.01),
      NEXT,
      '\0\0\0\0',
    ]
    writeFileSync(join(dir, 'execsnoop.log'), log.join('\n') + '\n')
    const report = await ingest(store, { paths: [join(dir, 'execsnoop.log')], date: '2026-11-28', tz: 'UTC' })
    expect(report.files[0]).toMatchObject({ format: 'execsnoop', records: 2, continuations: 1, bad: 2 })
    expect(store.sqlite.prepare('SELECT args FROM execsnoop_event ORDER BY line_id').pluck().all()).toEqual(['/bin/echo line1\nline2', '/bin/true'])
    expect(store.sqlite.prepare("SELECT line_no, detail FROM log_line WHERE kind = 'bad' ORDER BY line_no").all()).toEqual([
      { line_no: 4, detail: 'looks like an exitsnoop record, not a continuation of the execsnoop record at line 2' },
      { line_no: 6, detail: 'control bytes (U+0000): not a continuation of the execsnoop record at line 5' },
    ])
  })
})
