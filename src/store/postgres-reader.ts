/**
 * The PostgreSQL side of `Reader` (see reader.ts): a tracedb store pushed to
 * a central PostgreSQL (`tracedb push --to postgres://…`) read with the same
 * named queries as a local SQLite file.
 *
 * Every statement runs in its own `READ ONLY` transaction, so `tracedb sql
 * --db postgres://…` cannot write whatever the statement says. Rows come
 * back as SQLite would give them: integers as numbers (bigint beyond 2^53 as
 * BigInt), numeric as numbers, booleans as 1/0, timestamps as text.
 */
import { createHash } from 'node:crypto'
import pg from 'pg'
import { DatabaseError, QueryError } from '../errors.js'
import { sqlFor, type NamedQuery, type ParamType } from '../queries/catalog.js'
import type { CaptureInfo, QueryResult, Value } from '../queries/run.js'
import type { CaptureFilter, Params, Reader } from './reader.js'
import type { SchemaEntry } from './describe.js'
import { columnDocs } from './describe.js'
import { loadPgMigrations, pendingPostgres } from './postgres/migrate.js'
import { redactUrl } from './postgres/url.js'

const { Pool, types } = pg


const int8 = (text: string): number | bigint => {
  const n = Number(text)
  return Number.isSafeInteger(n) ? n : BigInt(text)
}

/**
 * A jsonb scalar is how a PostgreSQL variant returns a column that mixes
 * numbers and text (SQLite's columns take any type): the number or text
 * itself. Objects and arrays stay JSON text.
 */
function jsonbValue(text: string): Value {
  const v = JSON.parse(text) as unknown
  if (v === null || typeof v === 'number' || typeof v === 'string') return v
  if (typeof v === 'boolean') return v ? 1 : 0
  return text
}

/** Type parsers of this reader's connections only (pg's global ones stay as they are). */
const PARSERS: Record<number, (text: string) => unknown> = {
  20: int8, // int8
  1700: Number, // numeric: count/sum/avg of integers
  16: (t) => (t === 't' ? 1 : 0), // bool: SQLite has 1 and 0
  1114: (t) => t, // timestamp: the text PostgreSQL prints
  1184: (t) => t.replace(/\+00(:00)?$/, ''), // timestamptz (the session runs in UTC)
  1082: (t) => t, // date
  114: (t) => t, // json: the text, as SQLite stores it
  3802: jsonbValue,
}

const parserOf = (oid: number, format?: 'text' | 'binary'): unknown =>
  PARSERS[oid] ?? (types.getTypeParser(oid, format ?? 'text') as unknown)
const typeConfig = { getTypeParser: parserOf as typeof types.getTypeParser }

const CAST: Record<ParamType, string> = { integer: 'bigint', real: 'double precision', text: 'text' }

/**
 * Rewrites `:name` parameters to `$1, $2, …` (the same number for the same
 * name), leaving `::casts`, string literals, quoted identifiers, dollar
 * quotes and comments alone. With `types`, a parameter is cast to its
 * declared type (`$1::bigint`), so `:pid IS NULL` alone still has a type.
 */
export function toPositional(
  sql: string,
  params: Params,
  typesOf: Readonly<Record<string, ParamType>> = {},
): { text: string; values: unknown[] } {
  const order: string[] = []
  let out = ''
  let i = 0
  const n = sql.length
  while (i < n) {
    const ch = sql[i] ?? ''
    const next = sql[i + 1] ?? ''
    // string literal ('it''s'), E'…' escapes, quoted identifier
    if (ch === "'" || ch === '"') {
      const escapes = ch === "'" && /[eE]/.test(sql[i - 1] ?? '') && !/\w/.test(sql[i - 2] ?? '')
      let j = i + 1
      while (j < n) {
        if (escapes && sql[j] === '\\') j += 2
        else if (sql[j] === ch && sql[j + 1] === ch) j += 2
        else if (sql[j] === ch) break
        else j++
      }
      out += sql.slice(i, j + 1)
      i = j + 1
      continue
    }
    if (ch === '-' && next === '-') {
      const j = sql.indexOf('\n', i)
      const end = j < 0 ? n : j
      out += sql.slice(i, end)
      i = end
      continue
    }
    if (ch === '/' && next === '*') {
      const j = sql.indexOf('*/', i + 2)
      const end = j < 0 ? n : j + 2
      out += sql.slice(i, end)
      i = end
      continue
    }
    if (ch === '$') {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))
      if (tag && !/\w/.test(sql[i - 1] ?? '')) {
        const j = sql.indexOf(tag[0], i + tag[0].length)
        const end = j < 0 ? n : j + tag[0].length
        out += sql.slice(i, end)
        i = end
        continue
      }
    }
    if (ch === ':') {
      if (next === ':') {
        out += '::'
        i += 2
        continue
      }
      const m = /^:([A-Za-z_][A-Za-z0-9_]*)/.exec(sql.slice(i))
      if (m?.[1] !== undefined && !/\w/.test(sql[i - 1] ?? '') && m[1] in params) {
        const name = m[1]
        let k = order.indexOf(name)
        if (k < 0) k = order.push(name) - 1
        const type = typesOf[name]
        out += `$${String(k + 1)}${type ? `::${CAST[type]}` : ''}`
        i += m[0].length
        continue
      }
    }
    out += ch
    i++
  }
  return { text: out, values: order.map((k) => params[k] ?? null) }
}

/** A reader over a PostgreSQL database holding pushed captures. */
export async function postgresReader(url: string): Promise<Reader> {
  const location = redactUrl(url)
  const pool = new Pool({
    connectionString: url,
    max: 2,
    types: typeConfig,
    // times in rows and in text conversions as SQLite's: UTC
    options: '-c TimeZone=UTC -c DateStyle=ISO',
    application_name: 'tracedb',
  })
  pool.on('error', () => {
    // an idle connection dropped by the server: the next query reconnects
  })
  let client: pg.PoolClient
  try {
    client = await pool.connect()
  } catch (cause) {
    await pool.end().catch(() => undefined)
    throw new DatabaseError(`cannot connect to PostgreSQL at ${location}: ${(cause as Error).message}`, {
      cause,
      hint: 'check that the server runs and accepts this user and database (psql with the same URL says more)',
    })
  }
  try {
    // a reader never migrates: a centre without tracedb's tables, or with
    // tables older than this version's queries need, is refused
    const pending = await pendingPostgres(client)
    if (pending.length > 0) {
      const empty = pending.length === loadPgMigrations().length
      throw new DatabaseError(
        empty ? `${location} has no tracedb tables` : `${location} needs the newer tables of this tracedb (${pending.join(', ')})`,
        { hint: empty ? 'push a capture there first: tracedb push --to URL (it creates the tables)' : 'push from this tracedb version once: tracedb push --to URL (it upgrades the tables)' },
      )
    }
  } catch (cause) {
    client.release()
    await pool.end().catch(() => undefined)
    throw cause
  }
  client.release()

  /**
   * One statement in a read-only transaction. Always the extended protocol:
   * it takes exactly one statement, so a text cannot end the transaction
   * (`…; COMMIT`) and go on writing. `prepare`: a named query's text, kept
   * prepared on the connection (planned once, not on every run).
   */
  async function run(
    sql: string,
    params: Params,
    label: string,
    typesOf: Readonly<Record<string, ParamType>> = {},
    prepare = false,
  ): Promise<QueryResult> {
    const { text, values } = toPositional(sql, params, typesOf)
    const c = await pool.connect()
    try {
      await c.query('BEGIN READ ONLY')
      try {
        // queryMode is pg's (not in its type definitions)
        const config = {
          text,
          values,
          rowMode: 'array',
          queryMode: 'extended',
          ...(prepare ? { name: `tracedb_${createHash('sha1').update(text).digest('hex').slice(0, 16)}` } : {}),
        } as pg.QueryArrayConfig
        const r = await c.query(config)
        const columns = r.fields.map((f) => f.name)
        const rows = (r.rows as unknown[][]).map((row) => {
          const o: Record<string, Value> = {}
          columns.forEach((name, k) => {
            o[name] = (row[k] ?? null) as Value
          })
          return o
        })
        return { columns, rows }
      } finally {
        await c.query('ROLLBACK').catch(() => undefined)
      }
    } catch (cause) {
      const e = cause as Error & { code?: string }
      throw new QueryError(`${label}: ${e.message}`, {
        cause,
        hint:
          e.code === '25006'
            ? 'tracedb reads PostgreSQL in read-only transactions; change it with psql, or push captures with tracedb push'
            : 'check the SQL; `tracedb schema --db URL` lists tables, views and columns',
      })
    } finally {
      c.release()
    }
  }

  return {
    engine: 'postgres',
    location,
    run: (sql, params = {}, label = 'sql') => run(sql, params, label),
    runNamed: (query: NamedQuery, params, captureId) => {
      const typesOf: Record<string, ParamType> = { capture: 'integer' }
      for (const p of query.params) typesOf[p.name] = p.type
      return run(sqlFor(query, 'postgres'), { ...params, capture: captureId }, query.name, typesOf, true)
    },
    async resolveCapture(filter: CaptureFilter = {}): Promise<CaptureInfo> {
      const { rows } = await run(
        `SELECT id, name, host FROM capture
         WHERE (:name::text IS NULL OR name = :name::text) AND (:host::text IS NULL OR host = :host::text)
         ORDER BY updated_at DESC, id DESC
         LIMIT 100`,
        { name: filter.name ?? null, host: filter.host ?? null },
        'capture',
      )
      const pick = rows[0]
      if (!pick) {
        const known = await run("SELECT coalesce(host, '?') || ':' || name AS c FROM capture ORDER BY host, name", {}, 'capture')
        const what = [filter.host === undefined ? '' : `on host "${filter.host}"`, filter.name === undefined ? '' : `named "${filter.name}"`]
          .filter(Boolean)
          .join(' ')
        throw new QueryError(known.rows.length ? `no capture ${what} in ${location}` : `${location} has no captures yet`, {
          hint: known.rows.length
            ? `known captures (host:name): ${known.rows.map((r) => String(r.c)).join(', ')}`
            : 'push one: tracedb push --to URL',
        })
      }
      if (filter.name !== undefined && filter.host === undefined) {
        const hosts = new Set(rows.map((r) => r.host))
        if (hosts.size > 1) {
          throw new QueryError(`capture "${filter.name}" exists on ${String(hosts.size)} hosts`, {
            hint: `pick one with --host: ${[...hosts].map((h) => String(h)).sort().join(', ')}`,
          })
        }
      }
      return { id: Number(pick.id), name: String(pick.name), host: pick.host === null ? null : String(pick.host) }
    },
    async hasTable(name) {
      const { rows } = await run('SELECT to_regclass(:name::text) IS NOT NULL AS present', { name }, 'schema')
      return rows[0]?.present === 1
    },
    async describe(): Promise<SchemaEntry[]> {
      const { rows } = await run(
        `SELECT c.table_name AS name, CASE WHEN t.table_type = 'VIEW' THEN 'view' ELSE 'table' END AS type,
                c.column_name AS column, c.data_type AS data_type
         FROM information_schema.columns c
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
         WHERE c.table_schema = current_schema() AND c.table_name NOT LIKE '\\_%' ESCAPE '\\'
           AND c.table_name <> 'push_state'
         ORDER BY type, name, c.ordinal_position`,
        {},
        'schema',
      )
      const entries = new Map<string, { name: string; type: 'table' | 'view'; columns: { name: string; type: string }[] }>()
      for (const r of rows) {
        const name = String(r.name)
        let e = entries.get(name)
        if (!e) {
          e = { name, type: r.type === 'view' ? 'view' : 'table', columns: [] }
          entries.set(name, e)
        }
        e.columns.push({ name: String(r.column), type: String(r.data_type) })
      }
      return [...entries.values()].map((e) => columnDocs(e.name, e.type, e.columns))
    },
    async check() {
      const count = async (sql: string): Promise<number> => Number((await run(sql, {}, 'check')).rows[0]?.n ?? 0)
      return {
        problems: [],
        captures: await count('SELECT count(*) AS n FROM capture'),
        files: await count('SELECT count(*) AS n FROM source'),
        lines: await count('SELECT count(*) AS n FROM log_line'),
        bad: await count("SELECT count(*) AS n FROM log_line WHERE kind = 'bad'"),
        processes: await count('SELECT count(*) AS n FROM process'),
      }
    },
    close: () => pool.end(),
  }
}
