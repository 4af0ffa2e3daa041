import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { QueryError } from '../errors.js'

/** `queries/` of the installed package (works from src/ and dist/). */
export const QUERIES_DIR = fileURLToPath(new URL('../../queries/', import.meta.url))

export type ParamType = 'integer' | 'real' | 'text'

export interface QueryParam {
  readonly name: string
  readonly type: ParamType
  readonly description: string
  /** Absent: required. `null`: optional, defaults to NULL. */
  readonly default?: string | number | null
}

/** A named query read from a `.sql` file and its header. */
export interface NamedQuery {
  readonly name: string
  readonly description: string
  readonly params: readonly QueryParam[]
  /**
   * How the CLI draws it on a terminal: `table` (default), `tree` (rows with
   * id and parent_id) or `sections` (a table whose first column is printed
   * once per run of equal values).
   */
  readonly render: 'table' | 'tree' | 'sections'
  readonly sql: string
  readonly path: string
  /**
   * The same query written for another engine where the dialects differ
   * (`queries/postgres/NAME.sql`); its header equals this one's.
   */
  readonly variants?: Readonly<Partial<Record<Dialect, { readonly sql: string; readonly path: string }>>>
}

/** Engines that may have their own variant of a query, in a sub-directory of that name. */
export const DIALECTS = ['postgres'] as const
export type Dialect = (typeof DIALECTS)[number]

/** The SQL of `query` for `engine`: its variant when it has one, else the portable file. */
export function sqlFor(query: NamedQuery, engine: string): string {
  return query.variants?.[engine as Dialect]?.sql ?? query.sql
}

/**
 * Parameters every query may use without declaring them: the capture the
 * CLI selected (`--capture`, default the most recent).
 */
export const IMPLICIT_PARAMS = ['capture'] as const

const HEADER = /^--\s*@(\w+)\s*(.*)$/

/**
 * Parses a query file's header:
 *
 * ```sql
 * -- @name descendants
 * -- @description All descendant process instances of PID
 * -- @param pid integer The process whose tree to list
 * -- @param max_depth integer = 1000 Stop after this depth
 * -- @render tree
 * ```
 */
export function parseQuery(text: string, path: string, fallbackName: string): NamedQuery {
  let name = fallbackName
  let description = ''
  let render: NamedQuery['render'] = 'table'
  const params: QueryParam[] = []
  for (const line of text.split('\n')) {
    if (!line.startsWith('--')) {
      if (line.trim() === '') continue
      break
    }
    const m = HEADER.exec(line.trim())
    if (!m) continue
    const [, key = '', rest = ''] = m
    switch (key) {
      case 'name':
        name = rest.trim()
        break
      case 'description':
        description = description ? `${description} ${rest.trim()}` : rest.trim()
        break
      case 'render':
        if (!['tree', 'table', 'sections'].includes(rest.trim())) {
          throw new QueryError(`query "${name}" (${path}): unknown @render "${rest.trim()}"`, {
            hint: 'use @render table, @render tree or @render sections',
          })
        }
        render = rest.trim() as NamedQuery['render']
        break
      case 'param': {
        const p = /^(\w+)\s+(integer|real|text)(?:\s*=\s*(\S+))?\s*(.*)$/.exec(rest.trim())
        if (!p) {
          throw new QueryError(`query "${name}" (${path}): malformed @param "${rest.trim()}"`, {
            hint: 'write: -- @param NAME integer|real|text [= DEFAULT] description',
          })
        }
        const [, pname = '', ptype = 'text', pdefault, pdesc = ''] = p
        const type = ptype as ParamType
        const param: QueryParam =
          pdefault === undefined
            ? { name: pname, type, description: pdesc }
            : { name: pname, type, description: pdesc, default: pdefault === 'null' ? null : coerce(pdefault, type, pname, name) }
        params.push(param)
        break
      }
      default:
        break
    }
  }
  // Every :param used must be declared (or implicit), and every declared one used.
  const used = usedParams(text)
  for (const u of used) {
    if (!params.some((p) => p.name === u) && !(IMPLICIT_PARAMS as readonly string[]).includes(u)) {
      throw new QueryError(`query "${name}" (${path}) uses :${u} but has no "-- @param ${u} ..." line`)
    }
  }
  for (const p of params) {
    if (!used.has(p.name)) throw new QueryError(`query "${name}" (${path}) declares @param ${p.name} but never uses :${p.name}`)
  }
  if (!description) throw new QueryError(`query "${name}" (${path}) has no "-- @description" line`)
  return { name, description, params, render, sql: text, path }
}

/** The `:name` parameters an SQL text uses (outside comments and string literals). */
export function usedParams(sql: string): Set<string> {
  // one pass, so a `--` inside a string literal is not taken for a comment
  // and a quote inside a comment does not open a string
  const body = sql.replace(/'(?:[^']|'')*'|--[^\n]*|\/\*[\s\S]*?\*\//g, (m) => (m.startsWith("'") ? "''" : ' '))
  return new Set([...body.matchAll(/(?<![:\w]):([a-z_][a-z0-9_]*)/gi)].map((m) => m[1] ?? ''))
}

/** Converts a CLI string to the parameter's type, or explains why not. */
export function coerce(value: string, type: ParamType, param: string, query: string): string | number {
  if (type === 'text') return value
  const n = type === 'integer' ? (/^-?\d+$/.test(value) ? Number(value) : NaN) : Number(value)
  if (Number.isNaN(n) || value.trim() === '') {
    throw new QueryError(`query "${query}": parameter "${param}" must be ${type === 'integer' ? 'an integer' : 'a number'}, got "${value}"`, {
      hint: `e.g. tracedb query ${query} 1442`,
    })
  }
  return n
}

function walk(dir: string, top = true): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name)
    // queries/postgres/ holds variants, not queries of their own
    if (statSync(full).isDirectory()) {
      if (!(top && (DIALECTS as readonly string[]).includes(name))) out.push(...walk(full, false))
    } else if (name.endsWith('.sql')) out.push(full)
  }
  return out
}

/** The header as a comparable text: name, description, parameters, rendering. */
function headerOf(q: NamedQuery): string {
  return JSON.stringify([q.name, q.description, q.params, q.render])
}

/**
 * Attaches `DIR/postgres/*.sql` to the queries of the same name. A variant
 * must say the same as the portable file (name, description, parameters,
 * rendering): users read `query NAME --help` from the portable one.
 */
function loadVariants(dir: string, catalog: Map<string, NamedQuery>): void {
  for (const dialect of DIALECTS) {
    const sub = join(dir, dialect)
    let files: string[]
    try {
      if (!statSync(sub).isDirectory()) continue
      files = walk(sub, false)
    } catch {
      continue
    }
    for (const file of files) {
      const fallback = relative(sub, file).replace(/\.sql$/, '').split('\\').join('/')
      const v = parseQuery(readFileSync(file, 'utf8'), file, fallback)
      const base = catalog.get(v.name)
      if (!base) {
        throw new QueryError(`query variant "${v.name}" (${file}) has no portable query of that name`, {
          hint: `write ${join(dir, `${v.name}.sql`)} first: a ${dialect} variant only replaces the SQL of an existing query`,
        })
      }
      if (headerOf(base) !== headerOf(v)) {
        throw new QueryError(`query variant "${v.name}" (${file}) has a header that differs from ${base.path}`, {
          hint: 'copy the -- @name, @description, @param and @render lines of the portable file unchanged',
        })
      }
      catalog.set(v.name, { ...base, variants: { ...base.variants, [dialect]: { sql: v.sql, path: file } } })
    }
  }
}

/**
 * All named queries: the package's `queries/` plus any `--queries DIR`
 * (later directories override earlier ones by name). The name of a query is
 * its `@name`, else its path under the directory without `.sql`.
 */
export function loadCatalog(dirs: readonly string[] = [QUERIES_DIR]): Map<string, NamedQuery> {
  const catalog = new Map<string, NamedQuery>()
  for (const dir of dirs) {
    let files: string[]
    try {
      files = walk(dir)
    } catch (cause) {
      throw new QueryError(`cannot read queries directory "${dir}"`, { cause, hint: 'check the --queries path' })
    }
    for (const file of files) {
      const fallback = relative(dir, file).replace(/\.sql$/, '').split('\\').join('/')
      const q = parseQuery(readFileSync(file, 'utf8'), file, fallback)
      catalog.set(q.name, q)
    }
    loadVariants(dir, catalog)
  }
  return catalog
}
