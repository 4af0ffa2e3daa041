/**
 * Rows from SQLite into PostgreSQL's `COPY … FROM STDIN` (text format).
 *
 * Values are written exactly, formatted by SQLite itself: integers in full
 * (a timestamp in ns does not fit a JS number), reals with 17 significant
 * digits (which read back as the same double), blobs as bytea hex.
 * PostgreSQL's text cannot hold a NUL character, which a log line can:
 * a NUL in text becomes U+FFFD on the centre, and a raw line holding one
 * keeps its exact bytes in `log_line.raw_bytes` (as a line of invalid UTF-8
 * already does on the edge).
 */
import type BetterSqlite3 from 'better-sqlite3'
import type pg from 'pg'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { from as copyFrom } from 'pg-copy-streams'

/** Bytes per chunk handed to the COPY stream. */
const CHUNK_CHARS = 256 * 1024

/** How one table's rows are copied: its columns, and which rows (`WHERE` on the edge). */
export interface CopySpec {
  readonly table: string
  /** the table's columns (capture_id among them) */
  readonly columns: readonly string[]
  /** the rows to copy: a condition on the edge's table */
  readonly where: string
  readonly params: readonly unknown[]
}

export interface CopyResult {
  readonly rows: number
  readonly bytes: number
}

/**
 * Copies the rows of `spec` into `spec.table` on the centre, with
 * `captureId` in the capture_id column, inside the client's current
 * transaction. The rows are read lazily (a SQLite iterator), a chunk at a
 * time, as fast as PostgreSQL takes them.
 */
export async function copyRows(edge: BetterSqlite3.Database, client: pg.ClientBase, spec: CopySpec, captureId: number): Promise<CopyResult> {
  const counts = { rows: 0, bytes: 0 }
  const stream = client.query(copyFrom(`COPY ${spec.table} (${spec.columns.join(', ')}) FROM STDIN`))
  await pipeline(Readable.from(copyChunks(edge, spec, captureId, counts), { objectMode: false }), stream)
  return counts
}

/**
 * One column of a row as COPY text, computed by SQLite (in C, which is
 * several times faster than formatting each value in JavaScript): by the
 * value's own type, whatever the column's declared one. Integers exactly;
 * reals with 17 significant digits (which read back as the same double);
 * blobs as bytea hex; text with COPY's escapes. A NUL in text is left to
 * {@link nulFree}.
 */
function columnSql(column: string): string {
  const c = `"${column}"`
  const text = `replace(replace(replace(replace(${c}, '\\', '\\\\'), char(10), '\\n'), char(13), '\\r'), char(9), '\\t')`
  return `CASE typeof(${c}) WHEN 'null' THEN '\\N' WHEN 'integer' THEN CAST(${c} AS TEXT) WHEN 'real' THEN printf('%!.17g', ${c}) WHEN 'blob' THEN '\\\\x' || hex(${c}) ELSE ${text} END`
}

/** The SELECT that returns each row of `spec` as one line of COPY text (without its newline). */
export function copySelect(spec: CopySpec, captureId: number): string {
  const parts = spec.columns.map((c) => (c === 'capture_id' ? `'${String(captureId)}'` : columnSql(c)))
  return `SELECT ${parts.join(" || char(9) || ")} FROM "${spec.table}" WHERE ${spec.where}`
}

/**
 * A line holding NUL (PostgreSQL's text cannot): each NUL becomes U+FFFD;
 * in log_line, a raw line holding NUL keeps its exact bytes in raw_bytes.
 */
function nulFree(line: string, spec: CopySpec): string {
  const fields = line.split('\t')
  if (spec.table === 'log_line') {
    const raw = spec.columns.indexOf('raw')
    const rawBytes = spec.columns.indexOf('raw_bytes')
    const text = fields[raw]
    if (text?.includes('\0') && fields[rawBytes] === '\\N') {
      const bytes = Buffer.from(text.replace(/\\(.)/g, (_m, ch: string) => ({ n: '\n', r: '\r', t: '\t' })[ch] ?? ch), 'utf8')
      fields[rawBytes] = `\\\\x${bytes.toString('hex')}`
    }
  }
  return fields.map((f) => f.replace(/\0/g, '\uFFFD')).join('\t')
}

/**
 * The COPY text of the rows of `spec`, in chunks, with `captureId` in the
 * capture_id column; counts rows and bytes into `counts`. (Also what the
 * bench writes to files for its `psql \copy` floor.)
 */
export function* copyChunks(
  edge: BetterSqlite3.Database,
  spec: CopySpec,
  captureId: number,
  counts: { rows: number; bytes: number },
): Generator<string> {
  const statement = edge.prepare(copySelect(spec, captureId)).pluck(true)
  let chunk = ''
  for (const row of statement.iterate(...spec.params) as Iterable<string>) {
    chunk += (row.includes('\0') ? nulFree(row, spec) : row) + '\n'
    counts.rows++
    if (chunk.length >= CHUNK_CHARS) {
      counts.bytes += Buffer.byteLength(chunk)
      yield chunk
      chunk = ''
    }
  }
  if (chunk.length > 0) {
    counts.bytes += Buffer.byteLength(chunk)
    yield chunk
  }
}
