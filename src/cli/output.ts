import Table from 'cli-table3'
import pc from 'picocolors'
import type { QueryResult, Value } from '../queries/run.js'
import { escapeAndClip, escapeControls, neutraliseFormula } from './sanitize.js'

/** Output formats shared by every command that prints rows. */
export type OutputFormat = 'table' | 'json' | 'csv' | 'tree' | 'sections'

export interface OutputFlags {
  readonly json?: boolean
  readonly csv?: boolean
}

/** The format a command prints in: `--json`, `--csv`, else a table (or tree). */
export function outputFormat(flags: OutputFlags, preferred: 'table' | 'tree' | 'sections' = 'table'): OutputFormat {
  if (flags.json) return 'json'
  if (flags.csv) return 'csv'
  return preferred
}

function cell(v: Value): string {
  if (v === null) return ''
  if (Buffer.isBuffer(v)) return `<${String(v.length)} bytes>`
  if (typeof v === 'number' && !Number.isInteger(v)) return String(Math.round(v * 1000) / 1000)
  return String(v)
}

/** A value as a terminal may show it: log text is hostile (see sanitize.ts). */
function shown(v: Value): string {
  return escapeControls(cell(v))
}

function jsonValue(v: Value): unknown {
  if (typeof v === 'bigint') return Number(v)
  if (Buffer.isBuffer(v)) return v.toString('base64')
  return v
}

/** JSON: an array of row objects, keys = column names. */
export function toJson(result: QueryResult): string {
  const rows = result.rows.map((r) => Object.fromEntries(result.columns.map((c) => [c, jsonValue(r[c] ?? null)])))
  return JSON.stringify(rows, null, 2) + '\n'
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/**
 * A CSV cell: the value as it is, except that text a spreadsheet would run
 * as a formula is neutralised. Numbers are never touched (`-5` stays a
 * number), which is why this looks at the value's type, not at its text.
 */
function csvCell(v: Value): string {
  return typeof v === 'string' ? neutraliseFormula(v) : cell(v)
}

/** CSV (RFC 4180) with a header row; cells that would be formulas start with `'`. */
export function toCsv(result: QueryResult): string {
  const lines = [result.columns.map((c) => csvField(neutraliseFormula(c))).join(',')]
  for (const r of result.rows) lines.push(result.columns.map((c) => csvField(csvCell(r[c] ?? null))).join(','))
  return lines.join('\r\n') + '\r\n'
}

/** An aligned table without borders, for a terminal. */
export function toTable(result: QueryResult, options: { color?: boolean; maxWidth?: number } = {}): string {
  if (result.columns.length === 0) return ''
  const color = options.color ?? false
  const table = new Table({
    head: result.columns.map(escapeControls).map((c) => (color ? pc.bold(c) : c)),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '',
      right: '', 'right-mid': '', middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    wordWrap: false,
  })
  const max = options.maxWidth ?? 80
  for (const r of result.rows) {
    table.push(
      // escaped: a cell must neither act on the terminal nor break the layout (\n, \t)
      result.columns.map((c) => escapeAndClip(cell(r[c] ?? null), max)),
    )
  }
  return `${table.toString()}\n${color ? pc.dim(`(${String(result.rows.length)} rows)`) : `(${String(result.rows.length)} rows)`}\n`
}

/**
 * Draws rows with `id` and `parent_id` as a tree (rows whose parent is not
 * among them are roots), one line per row: the `label` columns joined.
 */
export function toTree(result: QueryResult, options: { color?: boolean; maxWidth?: number } = {}): string {
  const color = options.color ?? false
  const ids = new Set(result.rows.map((r) => r.id))
  const children = new Map<Value, Record<string, Value>[]>()
  const roots: Record<string, Value>[] = []
  for (const r of result.rows) {
    const parent = r.parent_id ?? null
    if (parent !== null && ids.has(parent)) {
      const list = children.get(parent)
      if (list) list.push(r)
      else children.set(parent, [r])
    } else {
      roots.push(r)
    }
  }
  const max = options.maxWidth ?? 100
  const label = (r: Record<string, Value>): string => {
    const pid = color ? pc.bold(shown(r.pid ?? null)) : shown(r.pid ?? null)
    const comm = shown(r.comm ?? null)
    const args = escapeAndClip(cell(r.args ?? null), max)
    const life = r.lifetime_s === null || r.lifetime_s === undefined ? '?' : `${shown(r.lifetime_s)}s`
    const extras = [life, r.exit_status ? shown(r.exit_status) : '', r.seen && r.seen !== 'exec' ? shown(r.seen) : '']
      .filter(Boolean)
      .join(', ')
    const text = `${pid} ${comm}${args && args !== comm ? `  ${args}` : ''}`
    return `${text}  ${color ? pc.dim(`[${extras}]`) : `[${extras}]`}`
  }
  const out: string[] = []
  const walk = (r: Record<string, Value>, prefix: string, last: boolean, root: boolean): void => {
    out.push(root ? label(r) : `${prefix}${last ? '└─ ' : '├─ '}${label(r)}`)
    const kids = children.get(r.id ?? null) ?? []
    const next = root ? '' : `${prefix}${last ? '   ' : '│  '}`
    kids.forEach((k, i) => walk(k, next, i === kids.length - 1, false))
  }
  roots.forEach((r) => walk(r, '', true, true))
  const count = result.rows.length
  out.push(color ? pc.dim(`(${String(count)} processes)`) : `(${String(count)} processes)`)
  return out.join('\n') + '\n'
}

/** The rows with the first column blank where it repeats the row above. */
function sections(result: QueryResult): QueryResult {
  const first = result.columns[0]
  if (first === undefined) return result
  let previous: Value | undefined
  const rows = result.rows.map((r) => {
    const same = r[first] === previous
    previous = r[first]
    return same ? { ...r, [first]: '' } : r
  })
  return { columns: result.columns, rows }
}

/** Renders a result in the chosen format. */
export function render(result: QueryResult, format: OutputFormat, color: boolean): string {
  switch (format) {
    case 'json':
      return toJson(result)
    case 'csv':
      return toCsv(result)
    case 'tree':
      return toTree(result, { color })
    case 'table':
      return toTable(result, { color })
    case 'sections':
      return toTable(sections(result), { color })
  }
}
