import type BetterSqlite3 from 'better-sqlite3'
import { QueryError } from '../errors.js'
import { usedParams } from './catalog.js'

/**
 * `tracedb sql` without `--write` runs on a read-only connection, but SQLite
 * lets such a connection write elsewhere: VACUUM INTO writes a new file,
 * ATTACH opens (or creates) other files, TEMP tables live in a temporary
 * database, PRAGMAs change settings (some for the whole process), and
 * load_extension would run native code. This refuses every statement that
 * writes anything anywhere, before it runs:
 *
 * 1. PRAGMAs are checked as text, before SQLite compiles them: a PRAGMA
 *    takes effect when it is prepared, not when it runs. Only the reading
 *    forms pass (`PRAGMA name`, `PRAGMA name(table)` for look-ups).
 * 2. ATTACH, DETACH, VACUUM, REINDEX and ANALYZE are refused by keyword.
 * 3. Whatever SQLite itself reports as writing (`Statement.readonly` is
 *    false) is refused: INSERT, CREATE TEMP …, VACUUM INTO, …
 * 4. The compiled program (EXPLAIN) is searched for calls that act although
 *    the statement counts as reading: load_extension(), ATTACH, DETACH, VACUUM.
 *
 * A statement this cannot classify is refused (fail closed). better-sqlite3
 * compiles only the first statement of a string and refuses a second one.
 */
export function refuseWrites(sqlite: BetterSqlite3.Database, sql: string): void {
  const { explain, statement } = splitExplain(sql)
  const label = statementLabel(statement)
  if (/^PRAGMA\b/i.test(statement)) checkPragma(statement)
  const byKeyword = label === 'VACUUM INTO' ? VACUUM_INTO : KEYWORD_REFUSALS.get(label.split(' ')[0] ?? '')
  if (byKeyword) throw refusal(label, byKeyword)

  let stmt: BetterSqlite3.Statement
  try {
    stmt = sqlite.prepare(statement)
  } catch {
    return // not valid SQL: running it reports SQLite's own message
  }
  if (!stmt.readonly) {
    throw refusal(label, /^CREATE TEMP/.test(label) ? TEMP : /^VACUUM INTO/.test(label) ? VACUUM_INTO : WRITES)
  }
  if (!explain) checkProgram(sqlite, statement, label)
}

interface Reason {
  readonly why: string
  readonly hint: string
}

const WRITES: Reason = {
  why: 'it writes',
  hint: 'add --write to change the database (it takes the writer lock, like ingest)',
}
const TEMP: Reason = {
  why: 'it creates a temporary object (a TEMP table, view or trigger is written to a temporary database)',
  hint: 'name the intermediate result in a WITH clause instead: WITH t AS (SELECT ...) SELECT ... FROM t',
}
const VACUUM_INTO: Reason = {
  why: 'it writes a copy of the database to a file',
  hint: 'copy the database with the sqlite3 shell (sqlite3 DB ".backup copy.db"), or add --write to run it under the writer lock',
}
const OTHER_FILE: Reason = {
  why: 'it opens another database file (ATTACH can create one)',
  hint: 'tracedb sql reads only the --db database; open other files with the sqlite3 shell',
}
const SETTING: Reason = {
  why: 'it changes a setting',
  hint: 'read a setting with PRAGMA name (or SELECT * FROM pragma_name); to change the database add --write',
}
const ACTS: Reason = {
  why: 'it acts on the database',
  hint: 'add --write to run it under the writer lock',
}
const UNCLEAR_PRAGMA: Reason = {
  why: 'only PRAGMAs that read are allowed (PRAGMA name, or PRAGMA name(table) for table_info, index_list, ...)',
  hint: 'write it as PRAGMA name or PRAGMA name(table), or query SELECT * FROM pragma_name(...)',
}
const EXTENSION: Reason = {
  why: 'it loads native code into tracedb',
  hint: 'load extensions in the sqlite3 shell',
}

const KEYWORD_REFUSALS = new Map<string, Reason>([
  ['ATTACH', OTHER_FILE],
  ['DETACH', OTHER_FILE],
  ['VACUUM', WRITES],
  ['REINDEX', WRITES],
  ['ANALYZE', WRITES],
])

/** PRAGMAs whose argument names what to read, not a value to set. */
const LOOKUP_PRAGMAS = new Set([
  'table_info',
  'table_xinfo',
  'table_list',
  'index_info',
  'index_xinfo',
  'index_list',
  'foreign_key_list',
  'foreign_key_check',
  'integrity_check',
  'quick_check',
])

/** PRAGMAs that do something even without an argument. */
const ACTING_PRAGMAS = new Set(['optimize', 'wal_checkpoint', 'incremental_vacuum', 'shrink_memory'])

/** `PRAGMA [schema.]name [(argument)]`, comments removed; anything else is refused. */
const READ_PRAGMA = /^PRAGMA\s+(?:\w+\s*\.\s*)?(\w+)\s*(?:\(\s*([^()]*?)\s*\))?\s*;?\s*$/i
const PRAGMA_NAME = /^PRAGMA\s+(?:\w+\s*\.\s*)?(\w+)/i

function checkPragma(statement: string): void {
  const text = withoutComments(statement).trim()
  const name = (PRAGMA_NAME.exec(text)?.[1] ?? '').toLowerCase()
  const label = name ? `PRAGMA ${name}` : 'PRAGMA'
  if (ACTING_PRAGMAS.has(name)) throw refusal(label, ACTS)
  const read = READ_PRAGMA.exec(text)
  if (!read) throw refusal(label, /=/.test(text) ? SETTING : UNCLEAR_PRAGMA)
  if (read[2] !== undefined && !LOOKUP_PRAGMAS.has(name)) throw refusal(label, SETTING)
}

/** Calls in the compiled program that act although SQLite counts the statement as reading. */
function checkProgram(sqlite: BetterSqlite3.Database, statement: string, label: string): void {
  let program: { opcode: string; p4: unknown }[]
  try {
    // EXPLAIN needs every named parameter bound; the values do not change the program
    const unbound = Object.fromEntries([...usedParams(statement)].map((name) => [name, null]))
    program = sqlite.prepare(`EXPLAIN ${statement}`).all(unbound) as { opcode: string; p4: unknown }[]
  } catch (cause) {
    throw new QueryError(`tracedb sql is read-only: cannot check that ${label} only reads: ${(cause as Error).message}`, {
      cause,
      hint: 'add --write to run it under the writer lock',
    })
  }
  for (const op of program) {
    const callee = /^(?:Pure)?Func(?:tion)?0?$/.test(op.opcode) && typeof op.p4 === 'string' ? op.p4 : ''
    if (callee.startsWith('load_extension(')) throw refusal('load_extension()', EXTENSION)
    if (callee.startsWith('sqlite_attach(')) throw refusal('ATTACH', OTHER_FILE)
    if (callee.startsWith('sqlite_detach(')) throw refusal('DETACH', OTHER_FILE)
    if (op.opcode === 'Vacuum') throw refusal('VACUUM', WRITES)
  }
}

function refusal(label: string, reason: Reason): QueryError {
  return new QueryError(`tracedb sql is read-only: refused ${label}: ${reason.why}`, { hint: reason.hint })
}

/**
 * The statement without what SQLite skips before it (blanks, comments,
 * empty statements) and without a leading EXPLAIN [QUERY PLAN], which
 * compiles it without running it.
 */
function splitExplain(sql: string): { explain: boolean; statement: string } {
  const statement = skipBlank(sql)
  const explain = /^EXPLAIN\b/i.exec(statement)
  if (!explain) return { explain: false, statement }
  let rest = skipBlank(statement.slice(explain[0].length))
  const query = /^QUERY\b/i.exec(rest)
  if (query) {
    rest = skipBlank(rest.slice(query[0].length))
    rest = skipBlank(rest.replace(/^PLAN\b/i, ''))
  }
  return { explain: true, statement: rest }
}

const BLANK = /^(?:\s+|;|--[^\n]*(?:\n|$)|\/\*[\s\S]*?(?:\*\/|$))/

function skipBlank(sql: string): string {
  let rest = sql
  for (let next = rest.replace(BLANK, ''); next !== rest; next = rest.replace(BLANK, '')) rest = next
  return rest
}

/** Comments replaced by a blank; quoted strings and names kept as they are. */
function withoutComments(sql: string): string {
  return sql.replace(
    /('(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])|--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/g,
    (_match: string, quoted: string | undefined) => quoted ?? ' ',
  )
}

/** What the statement is, for the message: INSERT, CREATE TEMP TABLE, VACUUM INTO, PRAGMA name, ... */
function statementLabel(statement: string): string {
  const text = withoutComments(statement).trim()
  const words = text.split(/[\s(;]+/, 4).map((w) => w.toUpperCase())
  const [first = '', second = '', third = ''] = words
  if (first === 'PRAGMA') {
    const name = PRAGMA_NAME.exec(text)?.[1]
    return name ? `PRAGMA ${name.toLowerCase()}` : 'PRAGMA'
  }
  if (first === 'CREATE' && (second === 'TEMP' || second === 'TEMPORARY')) return `CREATE TEMP ${third}`
  if (first === 'CREATE' && second === 'UNIQUE') return 'CREATE UNIQUE INDEX'
  if (first === 'CREATE' || first === 'DROP' || first === 'ALTER') return `${first} ${second}`
  if (first === 'VACUUM' && /\bINTO\b/i.test(text)) return 'VACUUM INTO'
  return first || 'statement'
}
