import { describe, expect, test } from 'vitest'
import { render, toCsv, toJson, toTable, toTree } from '../src/cli/output.js'
import { escapeAndClip, escapeControls, escapeLines, neutraliseFormula } from '../src/cli/sanitize.js'
import type { QueryResult } from '../src/queries/run.js'

/** Anything a terminal acts on instead of printing: C0 (with \t \n \r), DEL, C1, bidi overrides/isolates. */
// eslint-disable-next-line no-control-regex -- looking for control characters is the point
const LIVE = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/

/** Reads an escaped string back, to prove the escapes are unambiguous. */
function unescape(s: string): string {
  return s.replace(/\\(\\|n|t|r|x[0-9a-f]{2}|u[0-9a-f]{4})/g, (_, e: string) => {
    if (e === '\\') return '\\'
    if (e === 'n') return '\n'
    if (e === 't') return '\t'
    if (e === 'r') return '\r'
    return String.fromCharCode(parseInt(e.slice(1), 16))
  })
}

describe('escapeControls', () => {
  test('C0, DEL, C1 and bidi overrides become visible escapes', () => {
    expect(escapeControls('\x1b]0;pwned\x07\x1b[2J')).toBe('\\x1b]0;pwned\\x07\\x1b[2J')
    expect(escapeControls('a\x00b\x7fc')).toBe('a\\x00b\\x7fc')
    expect(escapeControls('\u009b31m\u0080\u009f')).toBe('\\x9b31m\\x80\\x9f')
    expect(escapeControls('\u202eevil\u202a\u2066\u2069')).toBe('\\u202eevil\\u202a\\u2066\\u2069')
  })

  test('newline, tab and carriage return are escaped too, so a line stays one line', () => {
    expect(escapeControls('a\nb\tc\rd')).toBe('a\\nb\\tc\\rd')
  })

  test('a backslash is doubled, so an escape in the output never stands for the same text in the input', () => {
    expect(escapeControls('\\x1b')).toBe('\\\\x1b')
    expect(escapeControls('\x1b')).toBe('\\x1b')
    expect(escapeControls('\\\x1b')).toBe('\\\\\\x1b')
  })

  test('ordinary text is unchanged: ASCII, accents, CJK, emoji, other Unicode marks', () => {
    const text = 'sshd: root@pts/0 -D -e "quoted" é 日本 🙂 \u00a0 \u200e'
    expect(escapeControls(text)).toBe(text)
  })

  test('every character of the unsafe ranges is escaped, and the output reads back exactly', () => {
    const all = [...Array(0xa0).keys(), 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x5c]
      .map((c) => String.fromCharCode(c))
      .join('')
    const escaped = escapeControls(all)
    expect(escaped).not.toMatch(LIVE)
    expect(unescape(escaped)).toBe(all)
  })

  test('escapeLines keeps the newlines between lines and escapes the rest', () => {
    expect(escapeLines('one \x1b[2J\ntwo\t')).toBe('one \\x1b[2J\ntwo\\t')
  })
})

describe('escapeAndClip', () => {
  test('short text is only escaped', () => {
    expect(escapeAndClip('a\x1bb', 10)).toBe('a\\x1bb')
  })

  test('the cut counts the escaped width and never splits an escape', () => {
    // 'ab' + '\x1b' (4 shown) + 'c': 7 shown; max 6 leaves 5 before the ellipsis: 'ab' then no room for \x1b
    expect(escapeAndClip('ab\x1bcdef', 6)).toBe('ab…')
    expect(escapeAndClip('ab\x1bcdef', 7)).toBe('ab\\x1b…')
    expect(escapeAndClip('a'.repeat(20), 5)).toBe('aaaa…')
  })

  test('nor a surrogate pair', () => {
    expect(escapeAndClip('a🙂🙂🙂', 4)).toBe('a🙂…')
  })
})

describe('neutraliseFormula (CSV injection, OWASP)', () => {
  test('text starting with = + - @ tab or CR gets a leading quote', () => {
    for (const s of ['=1+1', '+cmd|x', '-2+3', '@SUM(A1)', '\t=1', '\r=1', '=HYPERLINK("http://x")', '-', '+']) {
      expect(neutraliseFormula(s), JSON.stringify(s)).toBe(`'${s}`)
    }
  })

  test('plain numbers written as text stay as they are', () => {
    for (const s of ['-1', '-0.25', '+3', '-.5', '-1e-3', '1']) expect(neutraliseFormula(s)).toBe(s)
  })

  test('anything else is unchanged', () => {
    for (const s of ['', 'sshd', '/usr/bin/id', ' =1', "'=1", 'a=b']) expect(neutraliseFormula(s)).toBe(s)
  })
})

const HOSTILE = '\x1b]0;pwned\x07\x1b[2J\u009b31m\u202eevil'
const result: QueryResult = {
  columns: ['id', 'parent_id', 'pid', 'comm', 'args', 'delta', 'lifetime_s'],
  rows: [
    { id: 1, parent_id: null, pid: 10, comm: 'sh\x1b[31m', args: `/bin/sh -c ${HOSTILE}`, delta: -5, lifetime_s: -0.25 },
    { id: 2, parent_id: 1, pid: 11, comm: '=cmd', args: '-2+3\nsecond\tline', delta: '-1', lifetime_s: null },
  ],
}

describe('rendering hostile rows', () => {
  test('table and tree (and sections) print no live control character, but the escapes', () => {
    for (const out of [toTable(result), toTree(result), render(result, 'sections', false)]) {
      expect(out.replace(/\n/g, '')).not.toMatch(LIVE)
      expect(out).toContain('\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202eevil')
    }
    // a cell's newline and tab do not break the table's layout
    expect(toTable(result).split('\n')).toHaveLength(5)
    expect(toTable(result)).toContain('-2+3\\nsecond\\tline')
  })

  test('coloured output escapes the text and only then adds its own colour', () => {
    const out = toTree(result, { color: true })
    expect(out).toContain('sh\\x1b[31m')
    expect(out).not.toContain('sh\x1b[31m')
  })

  test('JSON keeps the exact strings', () => {
    const rows = JSON.parse(toJson(result)) as Record<string, unknown>[]
    expect(rows[0]!.args).toBe(`/bin/sh -c ${HOSTILE}`)
    expect(rows[0]!.comm).toBe('sh\x1b[31m')
    expect(rows[1]!.args).toBe('-2+3\nsecond\tline')
  })

  test('CSV neutralises text that would be a formula; numbers, and text that is a number, stay', () => {
    const lines = toCsv(result).split('\r\n')
    expect(lines[0]).toBe('id,parent_id,pid,comm,args,delta,lifetime_s')
    expect(lines[1]).toBe(`1,,10,sh\x1b[31m,/bin/sh -c ${HOSTILE},-5,-0.25`)
    expect(toCsv(result)).toContain(`2,1,11,'=cmd,"'-2+3\nsecond\tline",-1,\r\n`)
  })

  test('a CSV header that would be a formula is neutralised too', () => {
    expect(toCsv({ columns: ['=1+1', 'ok'], rows: [] })).toBe("'=1+1,ok\r\n")
  })
})
