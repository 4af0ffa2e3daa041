/**
 * Rows from SQLite into PostgreSQL's `COPY … FROM STDIN` (text format).
 *
 * Values are written exactly: integers are read from SQLite as BigInt (a
 * timestamp in ns does not fit a JS number), reals as JS numbers (whose
 * shortest form reads back as the same double), blobs as bytea hex.
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

const SPECIAL = /[\\\n\r\t\0]/
const SPECIAL_ALL = /[\\\n\r\t\0]/g
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\uFFFD' }

/** A text value in COPY's text format. */
export function copyText(value: string): string {
  return SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (c) => ESCAPES[c] ?? c) : value
}

/** One value in COPY's text format (`\N` for NULL). */
export function copyValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N'
  if (typeof value === 'string') return copyText(value)
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value > 0 ? 'Infinity' : value < 0 ? '-Infinity' : 'NaN'
  if (Buffer.isBuffer(value)) return `\\\\x${value.toString('hex')}`
  throw new Error(`cannot copy a value of type ${typeof value}`)
}

/** Bytes per chunk handed to the COPY stream. */
const CHUNK_CHARS = 256 * 1024

/** How one table's rows are copied. */
export interface CopySpec {
  readonly table: string
  /** columns, in the order the SELECT returns them */
  readonly columns: readonly string[]
  /** the SELECT on the edge (its columns in `columns` order) */
  readonly select: string
  readonly params: readonly unknown[]
  /** index of the capture_id column, rewritten to the centre's id */
  readonly captureColumn: number
  /** changes a row before it is written (log_line's NUL bytes) */
  readonly fix?: (row: unknown[]) => void
}

export interface CopyResult {
  readonly rows: number
  readonly bytes: number
}

/**
 * Copies the rows `spec.select` returns into `spec.table` on the centre,
 * with `captureId` in the capture_id column, inside the client's current
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
 * The COPY text of the rows `spec.select` returns, in chunks, with
 * `captureId` in the capture_id column; counts rows and bytes into `counts`.
 * (Also what the bench writes to files for its `psql \\copy` floor.)
 */
export function* copyChunks(
  edge: BetterSqlite3.Database,
  spec: CopySpec,
  captureId: number,
  counts: { rows: number; bytes: number },
): Generator<string> {
  const statement = edge.prepare(spec.select).raw(true).safeIntegers(true)
  const centreId = String(captureId)
  let chunk = ''
  for (const row of statement.iterate(...spec.params) as Iterable<unknown[]>) {
    spec.fix?.(row)
    let line = ''
    for (let i = 0; i < row.length; i++) {
      if (i > 0) line += '\t'
      line += i === spec.captureColumn ? centreId : copyValue(row[i])
    }
    chunk += line + '\n'
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

/** log_line: a raw line holding NUL keeps its exact bytes in raw_bytes. */
export function fixLogLine(columns: readonly string[]): (row: unknown[]) => void {
  const raw = columns.indexOf('raw')
  const rawBytes = columns.indexOf('raw_bytes')
  return (row) => {
    const text = row[raw]
    if (typeof text === 'string' && text.includes('\0') && row[rawBytes] === null) row[rawBytes] = Buffer.from(text, 'utf8')
  }
}
