import type BetterSqlite3 from 'better-sqlite3'
import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { deriveNew, derivedThrough, lowerWatermark, processCount, rederive } from '../derive/index.js'
import { DatabaseError, InputError } from '../errors.js'
import { FORMATS, findFormat } from '../formats/index.js'
import type { LogFormat } from '../formats/types.js'
import type { Store } from '../store/open.js'
import { RowBatch, ROWS_PER_STATEMENT, valuesSql } from '../store/batch.js'
import { EVENT_COLUMNS } from '../store/schema.js'
import { checkDate, checkTimeZone, localDateOf, localTimeZone, SourceClock, type ClockState } from './clock.js'
import { defaultCaptureName, listInputFiles } from './files.js'
import { decodeLine, lineBytes, readLineChunks, type TextLine } from './lines.js'
import { INITIAL_PARSER_STATE, SourceParser, type ParserState } from './source-parser.js'

/**
 * Lines written per transaction (with the source's offset), at least: whole
 * chunks of the reader are taken. Commits are cheap in WAL mode with
 * synchronous=NORMAL (no fsync); larger batches gained nothing measurable.
 */
export const BATCH_LINES = 20_000

/** Bytes read from a new file's head to recognise its tool. */
const SNIFF_BYTES = 64 * 1024

export interface IngestOptions {
  /** Directories (a capture each) or log files. */
  readonly paths: readonly string[]
  /** Capture name; default: the directory's name. */
  readonly capture?: string
  /** `YYYY-MM-DD` date of the wall-clock times; default: each file's mtime. */
  readonly date?: string
  /** Time zone of the wall-clock times; default: this machine's. */
  readonly tz?: string
  /** Derive process instances after reading (default true). */
  readonly derive?: boolean
  /** Called after each batch, for progress displays. */
  readonly onProgress?: (progress: IngestProgress) => void
  /** Formats to detect (default: all). */
  readonly formats?: readonly LogFormat[]
}

export interface IngestProgress {
  readonly path: string
  readonly bytesDone: number
  readonly bytesTotal: number
}

/** What happened to one file. */
export interface FileReport {
  readonly path: string
  /** new | grown | unchanged | replaced (truncated/rewritten) | skipped */
  readonly status: 'new' | 'grown' | 'unchanged' | 'replaced' | 'skipped'
  readonly format: string | null
  readonly variant: string | null
  readonly flags: readonly string[]
  readonly lines: number
  readonly records: number
  readonly continuations: number
  readonly messages: number
  readonly bad: number
  /** First bad lines (line number and reason), for the summary. */
  readonly badExamples: readonly { line: number; reason: string }[]
  /** Why the file was skipped. */
  readonly reason?: string
}

export interface IngestReport {
  readonly capture: string
  readonly captureId: number
  readonly files: readonly FileReport[]
  readonly warnings: readonly string[]
  readonly processes: number | null
}

interface SourceRow {
  id: number
  path: string
  dev: number | null
  ino: number | null
  fingerprint: string | null
  committed_offset: number
  committed_lines: number
  parser_state: string | null
  last_record_line_id: number | null
  format: string | null
}

interface StoredState {
  parser: ParserState
  clock: ClockState | null
  /** sha1 of the last committed line (offset, length): a rewrite is told from an append. */
  tail?: { offset: number; length: number; sha1: string } | null | undefined
}

/** True when the bytes of the last committed line are still where they were. */
async function tailMatches(path: string, state: string | null): Promise<boolean> {
  if (!state) return true
  const tail = (JSON.parse(state) as StoredState).tail
  if (!tail) return true
  const handle = await open(path, 'r')
  try {
    const buf = Buffer.alloc(tail.length)
    const { bytesRead } = await handle.read(buf, 0, tail.length, tail.offset)
    return bytesRead === tail.length && createHash('sha1').update(buf).digest('hex') === tail.sha1
  } finally {
    await handle.close()
  }
}

const now = (): string => new Date().toISOString()

/**
 * Ingests tool logs into the store: every line into `log_line`, every record
 * into its tool's table, then rebuilds the capture's process instances.
 * Idempotent and resumable: a file already read adds nothing, a file that
 * grew adds only its new lines, and offsets are committed in the same
 * transaction as the lines they cover.
 *
 * ### Examples
 * ```ts
 * const store = openStore('tracedb.db')
 * const report = await ingest(store, { paths: ['./logs'], tz: 'UTC' })
 * console.log(report.files.map((f) => `${f.path}: ${f.records} records`))
 * ```
 */
export async function ingest(store: Store, options: IngestOptions): Promise<IngestReport> {
  if (options.paths.length === 0) throw new InputError('no paths to ingest', { hint: 'give a directory of logs' })
  const date = options.date === undefined ? undefined : checkDate(options.date)
  const tz = options.tz === undefined ? undefined : checkTimeZone(options.tz)
  const files = listInputFiles(options.paths)
  const captureName = options.capture ?? defaultCaptureName(options.paths)
  const warnings: string[] = []
  const meta = readCaptureJson(options.paths, warnings)
  const captureId = ensureCapture(store.sqlite, captureName, date ?? meta?.date, tz ?? meta?.tz, meta?.text)
  const capture = store.sqlite
    .prepare('SELECT clock_date, clock_tz FROM capture WHERE id = ?')
    .get(captureId) as { clock_date: string | null; clock_tz: string | null }
  const ctx: FileContext = {
    store,
    captureId,
    formats: options.formats ?? FORMATS,
    clockDate: capture.clock_date,
    clockTz: capture.clock_tz,
    warnings,
    onProgress: options.onProgress,
    // A capture's first ingest derives once, at the end (one pass over the
    // whole capture is cheaper than following it batch by batch; readers
    // see its lines as they come and its derived tables whole at the end).
    // Later ingests, of what files gained, derive batch by batch.
    derive: options.derive !== false && derivedThrough(store.sqlite, captureId) > 0,
  }
  const reports: FileReport[] = []
  for (const file of files) {
    try {
      reports.push(await ingestFile(ctx, file.path, { final: true }))
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === undefined || !['EACCES', 'EPERM', 'ENOENT', 'EISDIR', 'ELOOP', 'EIO'].includes(code)) throw error
      // one unreadable file does not stop the others
      reports.push({
        path: file.path,
        status: 'skipped',
        format: null,
        variant: null,
        flags: [],
        lines: 0,
        records: 0,
        continuations: 0,
        messages: 0,
        bad: 0,
        badExamples: [],
        reason: `cannot read (${code}): ${(error as Error).message}`,
      })
    }
  }
  if (files.length === 0) warnings.push(`no log files found in ${options.paths.join(', ')}`)
  // each batch was derived as it was written; this catches up on what an
  // earlier run left underived (--no-derive, or a database from before)
  if (options.derive !== false) deriveNew(store.sqlite, captureId)
  const processes = options.derive === false ? null : processCount(store.sqlite, captureId)
  return { capture: captureName, captureId, files: reports, warnings, processes }
}

/** What `capture.json` (written by examples/capture.sh or `tracedb record`) says about the clocks. */
export interface CaptureMeta {
  readonly date: string
  readonly tz: string
  readonly text: string
}

/**
 * Reads `capture.json` from the first directory given: its `start_utc` and
 * `tz` anchor the tools' dateless wall-clock times.
 */
export function readCaptureJson(paths: readonly string[], warnings: string[]): CaptureMeta | undefined {
  const dir = paths[0]
  if (dir === undefined) return undefined
  const file = join(dir, 'capture.json')
  if (!existsSync(file)) return undefined
  const text = readFileSync(file, 'utf8')
  try {
    const json = JSON.parse(text) as { start_utc?: unknown; tz?: unknown }
    if (typeof json.start_utc !== 'string' || typeof json.tz !== 'string') throw new Error('needs "start_utc" and "tz"')
    const start = Date.parse(json.start_utc)
    if (Number.isNaN(start)) throw new Error(`bad start_utc "${json.start_utc}"`)
    const tz = checkTimeZone(json.tz)
    return { date: localDateOf(tz, start).date, tz, text }
  } catch (error) {
    warnings.push(`${file}: ignored (${(error as Error).message})`)
    return undefined
  }
}

/** Find or create a capture; a given date/zone is remembered for later runs. */
export function ensureCapture(
  sqlite: BetterSqlite3.Database,
  name: string,
  date?: string,
  tz?: string,
  meta?: string,
): number {
  const existing = sqlite.prepare('SELECT id FROM capture WHERE name = ?').get(name) as { id: number } | undefined
  const t = now()
  if (existing) {
    sqlite
      .prepare(
        'UPDATE capture SET updated_at = ?, clock_date = coalesce(?, clock_date), clock_tz = coalesce(?, clock_tz), meta = coalesce(?, meta) WHERE id = ?',
      )
      .run(t, date ?? null, tz ?? null, meta ?? null, existing.id)
    return existing.id
  }
  const info = sqlite
    .prepare('INSERT INTO capture (name, created_at, updated_at, clock_date, clock_tz, meta) VALUES (?, ?, ?, ?, ?, ?)')
    .run(name, t, t, date ?? null, tz ?? null, meta ?? null)
  return Number(info.lastInsertRowid)
}

export interface FileContext {
  readonly store: Store
  readonly captureId: number
  readonly formats: readonly LogFormat[]
  readonly clockDate: string | null
  readonly clockTz: string | null
  readonly warnings: string[]
  readonly onProgress: ((progress: IngestProgress) => void) | undefined
  /** Derive each batch in its transaction (false: leave it to a later pass). */
  readonly derive: boolean
}

export interface FileOptions {
  /** One-shot ingest: also take a last line without newline (flagged partial). */
  readonly final: boolean
}

/** Reads the first line's bytes (up to 4 KiB) for the file's fingerprint. */
async function fingerprintOf(path: string): Promise<{ fingerprint: string | null; head: Buffer }> {
  const handle = await open(path, 'r')
  try {
    const head = Buffer.alloc(SNIFF_BYTES)
    const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0)
    const data = head.subarray(0, bytesRead)
    if (bytesRead === 0) return { fingerprint: null, head: data }
    const nl = data.indexOf(0x0a)
    const first = data.subarray(0, nl === -1 ? Math.min(data.length, 4096) : Math.min(nl, 4096))
    return { fingerprint: createHash('sha1').update(first).digest('hex'), head: data }
  } finally {
    await handle.close()
  }
}

/** Tries the formats on a file's head: a header found, only messages, or not a log. */
function sniff(head: Buffer, formats: readonly LogFormat[]): { ok: true } | { ok: false; reason: string } {
  const parser = new SourceParser(formats)
  const lines = head.toString('utf8').split('\n')
  if (head.length === SNIFF_BYTES) lines.pop() // cut mid-line
  let bad = 0
  for (const line of lines) {
    const p = parser.push(line.endsWith('\r') ? line.slice(0, -1) : line)
    if (parser.layout) return { ok: true }
    if (p.kind === 'bad') bad++
  }
  if (bad === 0) return { ok: true } // only tool messages so far (or empty): keep them
  return {
    ok: false,
    reason: `not a known tool's log: no header of ${formats.map((f) => f.name).join('/')} in its first ${String(lines.length)} lines`,
  }
}

/**
 * Ingests one file from its committed offset. Used by `ingest` (final: the
 * file is complete) and by the watcher (not final: a line without newline is
 * left for later).
 */
export async function ingestFile(ctx: FileContext, path: string, options: FileOptions): Promise<FileReport> {
  const { sqlite } = ctx.store
  const st = statSync(path)
  const { fingerprint, head } = await fingerprintOf(path)
  const empty = (status: FileReport['status'], extra: Partial<FileReport> = {}): FileReport => ({
    path,
    status,
    format: null,
    variant: null,
    flags: [],
    lines: 0,
    records: 0,
    continuations: 0,
    messages: 0,
    bad: 0,
    badExamples: [],
    ...extra,
  })

  // Which source is this file? Same path, or a renamed file with the same identity.
  const byPath = sqlite
    .prepare("SELECT * FROM source WHERE capture_id = ? AND path = ? AND state != 'replaced' ORDER BY id DESC LIMIT 1")
    .get(ctx.captureId, path) as SourceRow | undefined
  const byIdentity =
    fingerprint === null
      ? undefined
      : (sqlite
          .prepare(
            "SELECT * FROM source WHERE capture_id = ? AND dev = ? AND ino = ? AND fingerprint = ? AND state != 'replaced' ORDER BY id DESC LIMIT 1",
          )
          .get(ctx.captureId, st.dev, st.ino, fingerprint) as SourceRow | undefined)
  let source = byPath ?? byIdentity
  let status: FileReport['status'] = 'new'
  if (source) {
    const sameFile =
      source.dev === st.dev && source.ino === st.ino && (source.fingerprint === null || source.fingerprint === fingerprint)
    if (!sameFile || st.size < source.committed_offset || !(await tailMatches(path, source.parser_state))) {
      // Truncated or rewritten in place: the old lines stay, a new source
      // starts. A different inode at this path is another file (the old one
      // was rotated away and may turn up under its new name, found then by
      // its identity), so the old source is left as it is.
      if (source.dev === st.dev && source.ino === st.ino) {
        sqlite.prepare("UPDATE source SET state = 'replaced' WHERE id = ?").run(source.id)
      }
      if (byIdentity && byIdentity.id !== source.id && st.size >= byIdentity.committed_offset) {
        source = byIdentity
        status = 'grown'
      } else {
        source = undefined
        status = 'replaced'
      }
    } else {
      status = 'grown'
    }
    if (source && source.path !== path) sqlite.prepare('UPDATE source SET path = ? WHERE id = ?').run(path, source.id)
  }

  if (!source) {
    if (st.size === 0) return empty('unchanged', { reason: 'empty file (0 bytes): nothing to ingest yet' })
    const s = sniff(head, ctx.formats)
    if (!s.ok) {
      return empty('skipped', { reason: s.reason })
    }
    const t = now()
    const info = sqlite
      .prepare(
        `INSERT INTO source (capture_id, path, dev, ino, fingerprint, mtime_ms, first_read_at, last_read_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(ctx.captureId, path, st.dev, st.ino, fingerprint, Math.round(st.mtimeMs), t, t)
    source = sqlite.prepare('SELECT * FROM source WHERE id = ?').get(Number(info.lastInsertRowid)) as SourceRow
  } else if (fingerprint !== null && source.fingerprint === null) {
    sqlite.prepare('UPDATE source SET fingerprint = ? WHERE id = ?').run(fingerprint, source.id)
  }

  return readSource(ctx, source, st, status, options)
}

/** The lines of a source from its committed offset, in batched transactions. */
async function readSource(
  ctx: FileContext,
  source: SourceRow,
  st: { size: number; mtimeMs: number },
  status: FileReport['status'],
  options: FileOptions,
): Promise<FileReport> {
  const { sqlite } = ctx.store
  const writer = new SourceWriter(ctx, source, st)
  const start = source.committed_offset
  if (start >= st.size && !writer.hasPartial()) {
    return writer.report(status === 'grown' ? 'unchanged' : status)
  }
  let batch: TextLine[][] = []
  let count = 0
  for await (const lines of readLineChunks(source.path, { start, includePartial: options.final })) {
    batch.push(lines)
    count += lines.length
    if (count >= BATCH_LINES) {
      writer.write(batch)
      batch = []
      count = 0
      ctx.onProgress?.({ path: source.path, bytesDone: lines.at(-1)?.end ?? start, bytesTotal: st.size })
    }
  }
  writer.write(batch)
  sqlite.prepare('UPDATE source SET size_seen = ?, mtime_ms = ? WHERE id = ?').run(st.size, Math.round(st.mtimeMs), source.id)
  return writer.report(status === 'grown' && writer.lines === 0 ? 'unchanged' : status)
}

/** Prepared statements for one format's `<name>_event` table. */
interface FormatStatements {
  /** one row */
  readonly insert: BetterSqlite3.Statement
  /** {@link ROWS_PER_STATEMENT} rows */
  readonly insertMany: BetterSqlite3.Statement
  readonly columns: readonly string[]
}

const formatStatementCache = new WeakMap<BetterSqlite3.Database, Map<string, FormatStatements>>()

/**
 * The insert statement of a format's table. The SQL is compiled by Kysely
 * once (typed against `Database`) and run by better-sqlite3 with positional
 * values: the hot path of ingest pays no per-row query building.
 */
function formatStatements(store: Store, format: LogFormat): FormatStatements {
  let cache = formatStatementCache.get(store.sqlite)
  if (!cache) {
    cache = new Map()
    formatStatementCache.set(store.sqlite, cache)
  }
  const hit = cache.get(format.name)
  if (hit) return hit
  const columns = [...EVENT_COLUMNS, ...format.columns.map((c) => c.name)]
  const row = Object.fromEntries(columns.map((c) => [c, null]))
  const table = `${format.name}_event` as const
  const made = {
    insert: store.sqlite.prepare(store.db.insertInto(table).values(row).compile().sql),
    insertMany: store.sqlite.prepare(store.db.insertInto(table).values(Array.from({ length: ROWS_PER_STATEMENT }, () => row)).compile().sql),
    columns,
  }
  cache.set(format.name, made)
  return made
}

/** A stored line, as rebuild reads it again. */
interface StoredLine {
  id: number
  line_no: number
  byte_offset: number
  raw: string
  raw_bytes: Buffer | null
  partial: number
}

const LINE_COLUMNS = 'id, capture_id, source_id, line_no, byte_offset, kind, raw, raw_bytes, detail, partial'

/** Writes the lines of one source, batch by batch, each batch one transaction. */
class SourceWriter {
  readonly #ctx: FileContext
  readonly #source: SourceRow
  readonly #parser: SourceParser
  #clock: SourceClock | null
  readonly #mtimeMs: number
  #lineNo: number
  #offset: number
  #lastRecord: number | null
  #lastRecordFormat: string | null
  #tail: StoredState['tail']
  readonly #lineRows: RowBatch
  /** pending event rows per format */
  readonly #eventRows = new Map<string, { rows: RowBatch; columns: readonly string[] }>()
  readonly #maxLineId: BetterSqlite3.Statement
  /** `UPDATE <tool>_event SET <column> = ... || line` per table and column, prepared once */
  readonly #appends = new Map<string, BetterSqlite3.Statement>()
  readonly #updateLine: BetterSqlite3.Statement
  /** Rebuild mode: lines already stored are re-classified in place, keeping their ids. */
  readonly #existing: boolean
  /** ids of a stored partial last line, until it is dropped */
  #partial: number[] | undefined
  /** the ids of the lines of the batch being rewritten, in order */
  #givenIds: readonly number[] = []
  lines = 0
  records = 0
  continuations = 0
  messages = 0
  bad = 0
  partialDropped = 0
  readonly badExamples: { line: number; reason: string }[] = []

  constructor(ctx: FileContext, source: SourceRow, st: { mtimeMs: number }, existing = false) {
    this.#ctx = ctx
    this.#source = source
    this.#existing = existing
    const stored: StoredState | null =
      source.parser_state && !existing ? (JSON.parse(source.parser_state) as StoredState) : null
    this.#parser = new SourceParser(ctx.formats, stored?.parser ?? INITIAL_PARSER_STATE)
    this.#clock = stored?.clock ? new SourceClock(stored.clock, () => this.#toolStartMs()) : null
    this.#tail = stored?.tail ?? null
    this.#mtimeMs = st.mtimeMs
    this.#lineNo = existing ? 0 : source.committed_lines
    this.#offset = existing ? 0 : source.committed_offset
    this.#lastRecord = existing ? null : source.last_record_line_id
    this.#lastRecordFormat = existing ? null : source.format
    // line ids are given (max + 1, as SQLite would choose), so that event rows
    // can name their line before it is inserted (rows are inserted in groups)
    this.#lineRows = RowBatch.of(ctx.store.sqlite, (rows) => `INSERT INTO log_line (${LINE_COLUMNS}) VALUES ${valuesSql(10, rows)}`, 10)
    this.#maxLineId = ctx.store.sqlite.prepare('SELECT coalesce(max(id), 0) FROM log_line').pluck()
    this.#updateLine = ctx.store.sqlite.prepare('UPDATE log_line SET kind = ?, detail = ? WHERE id = ?')
  }

  /** Whether a last line was stored without its newline (it is read again from scratch). */
  hasPartial(): boolean {
    return this.#partialIds().length > 0
  }

  /** The stored partial line: the one after the committed lines (found through the (source_id, line_no) index). */
  #partialIds(): number[] {
    if (this.#existing) return []
    this.#partial ??= this.#ctx.store.sqlite
      .prepare('SELECT id FROM log_line WHERE source_id = ? AND line_no > ? AND partial = 1')
      .pluck()
      .all(this.#source.id, this.#source.committed_lines) as number[]
    return this.#partial
  }

  /**
   * Removes a previously stored partial last line (and its record), inside
   * the transaction that reads it again; returns the PIDs of the exec/exit
   * rows removed (their instances are derived again).
   */
  #dropPartial(): number[] {
    const { sqlite } = this.#ctx.store
    const partial = this.#partialIds()
    const pids: number[] = []
    for (const id of partial) {
      for (const f of this.#ctx.formats) {
        const removed = sqlite.prepare(`DELETE FROM ${f.name}_event WHERE line_id = ? RETURNING *`).get(id) as { pid?: unknown } | undefined
        if (typeof removed?.pid === 'number') pids.push(removed.pid)
      }
      sqlite.prepare('DELETE FROM log_line WHERE id = ?').run(id)
      // its id may be given again to the line read in its place: derive from there
      lowerWatermark(sqlite, this.#ctx.captureId, id - 1)
      this.partialDropped++
    }
    this.#partial = []
    return pids
  }

  #clockFor(): SourceClock {
    if (this.#clock) return this.#clock
    const tz = this.#ctx.clockTz ?? localTimeZone()
    let anchor: ClockState['anchor']
    if (this.#ctx.clockDate) {
      anchor = { date: this.#ctx.clockDate, tz }
    } else {
      const local = localDateOf(tz, this.#mtimeMs)
      anchor = { date: local.date, tz, endSecondsOfDay: local.secondsOfDay }
      this.#ctx.warnings.push(
        `${this.#source.path}: times have no date; assumed ${local.date} (the file's modification date) in ${tz}` +
          (this.#ctx.clockTz ? '' : ' (this machine\'s zone)') +
          ' — pass --date YYYY-MM-DD and --tz ZONE to be exact',
      )
    }
    if (!this.#ctx.clockTz && this.#ctx.clockDate) {
      this.#ctx.warnings.push(`${this.#source.path}: no --tz given; assumed ${tz} (this machine's zone)`)
    }
    this.#clock = new SourceClock({ anchor, dayOffset: null, lastSecondsOfDay: null }, () => this.#toolStartMs())
    return this.#clock
  }

  /**
   * When the tool behind this source started, for relative clocks (-t,
   * biosnoop's seconds since its first I/O): from the capture's
   * capture.json (the time its header appeared), else, when no date was
   * given either, the file's creation time — the shell creates a `>`
   * redirect just before the tool starts.
   */
  #toolStartMs(): number | undefined {
    const meta = this.#ctx.store.sqlite.prepare('SELECT meta FROM capture WHERE id = ?').pluck().get(this.#ctx.captureId) as
      | string
      | null
    const name = basename(this.#source.path)
    try {
      const tools = (JSON.parse(meta ?? '{}') as { tools?: Record<string, { log?: string; header_utc?: string; started_utc?: string }> }).tools
      for (const t of Object.values(tools ?? {})) {
        if (t.log !== name) continue
        const ms = Date.parse(t.header_utc ?? t.started_utc ?? '')
        if (!Number.isNaN(ms)) return ms
      }
    } catch {
      // an unreadable capture.json was reported when it was read
    }
    if (this.#ctx.clockDate) {
      // --date says the logs were not necessarily written here and now: a
      // copied file's creation time would be a wrong anchor
      this.#ctx.warnings.push(
        `${this.#source.path}: relative times left without timestamp: no capture.json says when the tool started`,
      )
      return undefined
    }
    try {
      const born = statSync(this.#source.path).birthtimeMs
      if (born > 0) {
        this.#ctx.warnings.push(
          `${this.#source.path}: relative times counted from the file's creation time; capture.json (tracedb record) gives the tool's start`,
        )
        return born
      }
    } catch {
      // the file is gone (rebuild from stored lines): relative times stay without timestamp
    }
    return undefined
  }

  /** The pending event rows of `format`, and its table's columns. */
  #eventsOf(format: LogFormat): { rows: RowBatch; columns: readonly string[] } {
    let ev = this.#eventRows.get(format.name)
    if (!ev) {
      const st = formatStatements(this.#ctx.store, format)
      ev = { rows: new RowBatch(st.insert, st.insertMany, st.columns.length), columns: st.columns }
      this.#eventRows.set(format.name, ev)
    }
    return ev
  }

  /** Inserts every pending row (lines first: events refer to them). */
  #flush(): void {
    this.#lineRows.flush()
    for (const ev of this.#eventRows.values()) ev.rows.flush()
  }

  /** One transaction: the lines of `batch` (chunks of lines, in order) and the source's new offset. */
  /** Appends a continuation line to a column of a stored record. */
  #appendStatement(format: string, column: string): BetterSqlite3.Statement {
    const key = `${format}.${column}`
    let stmt = this.#appends.get(key)
    if (!stmt) {
      stmt = this.#ctx.store.sqlite.prepare(`UPDATE ${format}_event SET ${column} = coalesce(${column}, '') || char(10) || ? WHERE line_id = ?`)
      this.#appends.set(key, stmt)
    }
    return stmt
  }

  /** Rebuild: classifies stored lines again, in place. */
  rewrite(rows: readonly StoredLine[]): void {
    this.#givenIds = rows.map((r) => r.id)
    this.write([
      rows.map((r) => {
        const bytes = r.raw_bytes ?? Buffer.from(r.raw, 'utf8')
        const { text, invalid } = decodeLine(bytes)
        return { text, invalidBytes: invalid ? bytes : null, offset: r.byte_offset, end: r.byte_offset + bytes.length + 1, partial: r.partial === 1 }
      }),
    ])
    this.#givenIds = []
  }

  write(batch: readonly (readonly TextLine[])[]): void {
    if (batch.every((lines) => lines.length === 0) && (this.#existing || !this.hasPartial())) return
    const { sqlite } = this.#ctx.store
    const capture = this.#ctx.captureId
    const sourceId = this.#source.id
    // rows left over by a transaction that threw were rolled back with it
    this.#lineRows.clear()
    for (const ev of this.#eventRows.values()) ev.rows.clear()
    sqlite.transaction(() => {
      const firstLineNo = this.#lineNo + 1
      const droppedPids = this.#existing ? [] : this.#dropPartial()
      const touchedLines: number[] = []
      let committedOffset = this.#offset
      let committedLines = this.#lineNo
      let tail: TextLine | null = null
      let nextId = Number(this.#maxLineId.get()) + 1
      const lineValues = this.#lineRows.values
      let index = 0
      for (const lines of batch) {
        for (const raw of lines) {
          const text = raw.text
          const clean = text.endsWith('\r') ? text.slice(0, -1) : text
          const parsed = this.#parser.push(clean, raw.partial)
          this.#lineNo++
          const r = parsed.result
          const detail = r.kind === 'message' ? r.message : r.kind === 'bad' ? r.reason : null
          let lineId: number
          const known = this.#existing ? this.#givenIds[index++] : undefined
          if (known !== undefined) {
            this.#updateLine.run(parsed.kind, detail, known)
            lineId = known
          } else {
            lineId = nextId++
            lineValues.push(lineId, capture, sourceId, this.#lineNo, raw.offset, parsed.kind, text, raw.invalidBytes, detail, raw.partial ? 1 : 0)
            this.#lineRows.added()
          }
          this.lines++
          switch (r.kind) {
            case 'header':
            case 'message':
              this.messages += r.kind === 'message' ? 1 : 0
              break
            case 'bad':
              this.bad++
              if (this.badExamples.length < 5) this.badExamples.push({ line: this.#lineNo, reason: r.reason })
              break
            case 'record': {
              const format = this.#parser.format
              if (!format) break
              const ev = this.#eventsOf(format)
              const norm = this.#clockFor().normalize(r.time)
              const values = ev.rows.values
              values.push(lineId, capture, sourceId, norm.ts, norm.precision, r.timeText ?? null, null)
              const columns = ev.columns
              for (let i = EVENT_COLUMNS.length; i < columns.length; i++) {
                const v = r.values[columns[i]!]
                values.push(v === undefined ? null : v)
              }
              ev.rows.added()
              this.#lastRecord = lineId
              this.#lastRecordFormat = format.name
              this.records++
              break
            }
            case 'continuation': {
              this.continuations++
              const format = this.#lastRecordFormat ? findFormat(this.#lastRecordFormat) : undefined
              if (this.#lastRecord !== null && format?.columns.some((c) => c.name === r.column)) {
                this.#flush() // the record may still be pending
                this.#appendStatement(format.name, r.column).run(r.append, this.#lastRecord)
                touchedLines.push(this.#lastRecord)
              }
              break
            }
          }
          if (!raw.partial) {
            committedOffset = raw.end
            committedLines = this.#lineNo
            tail = raw
          }
        }
      }
      this.#flush()
      // the batch's lines and what they imply commit together
      if (this.#ctx.derive) {
        try {
          deriveNew(sqlite, capture, { touchedLines, pids: droppedPids })
        } catch (cause) {
          // the batch is rolled back with its derivation: nothing half-written stays
          throw new DatabaseError(`${this.#source.path}: deriving after lines ${String(firstLineNo)}-${String(this.#lineNo)} failed: ${(cause as Error).message}`, {
            hint: 'the lines were not committed; they are read again next time (tracedb check verifies the database)',
            cause,
          })
        }
      }
      this.#offset = committedOffset
      const layout = this.#parser.layout
      if (tail) {
        const sha1 = createHash('sha1').update(lineBytes(tail)).update('\n').digest('hex')
        this.#tail = { offset: tail.offset, length: tail.end - tail.offset, sha1 }
      }
      const state: StoredState = { parser: this.#parser.state, clock: this.#clock?.state ?? null, tail: this.#tail }
      sqlite
        .prepare(
          `UPDATE source SET committed_offset = ?, committed_lines = ?, format = ?, variant = ?, flags = ?,
             parser_state = ?, last_record_line_id = ?, last_read_at = ? WHERE id = ?`,
        )
        .run(
          committedOffset,
          committedLines,
          this.#parser.format?.name ?? null,
          layout?.variant ?? null,
          layout ? layout.flags.join(' ') : null,
          JSON.stringify(state),
          this.#lastRecord,
          now(),
          sourceId,
        )
      // a partial line is re-read next time: its number is not committed
      this.#lineNo = committedLines
    })()
  }

  get lineCount(): number {
    return this.lines
  }

  report(status: FileReport['status']): FileReport {
    const layout = this.#parser.layout
    return {
      path: this.#source.path,
      status,
      format: this.#parser.format?.name ?? null,
      variant: layout?.variant ?? null,
      flags: layout?.flags ?? [],
      lines: this.lines,
      records: this.records,
      continuations: this.continuations,
      messages: this.messages,
      bad: this.bad,
      badExamples: this.badExamples,
    }
  }
}

export interface RebuildReport {
  readonly sources: number
  readonly lines: number
  readonly records: number
  readonly bad: number
  readonly processes: number
}

/**
 * Rebuilds every per-tool table and the derived tables from the event store
 * (after a parser fix, or a new format that now recognises old lines): the
 * stored lines are classified again, in order, per source.
 *
 * All or nothing: the whole rebuild is one transaction, so a rebuild killed
 * at any point leaves the store as it was. Lines are read in pages, never a
 * whole source at once. Process instances keep their ids (their evidence
 * rows are linked again to the instances they belonged to before deriving).
 *
 * ### Examples
 * ```ts
 * const report = rebuild(openStore('tracedb.db'))
 * ```
 */
export function rebuild(store: Store, options: { capture?: string; formats?: readonly LogFormat[] } = {}): RebuildReport {
  const { sqlite } = store
  const formats = options.formats ?? FORMATS
  const captures = (
    options.capture === undefined
      ? sqlite.prepare('SELECT id, clock_date, clock_tz FROM capture ORDER BY id').all()
      : sqlite.prepare('SELECT id, clock_date, clock_tz FROM capture WHERE name = ?').all(options.capture)
  ) as { id: number; clock_date: string | null; clock_tz: string | null }[]
  if (captures.length === 0 && options.capture !== undefined) {
    throw new InputError(`capture "${options.capture}" not found`, { hint: 'tracedb query captures lists them' })
  }
  return sqlite.transaction(() => {
    let total = { sources: 0, lines: 0, records: 0, bad: 0, processes: 0 }
    for (const capture of captures) {
      const ctx: FileContext = {
        store,
        captureId: capture.id,
        formats,
        clockDate: capture.clock_date,
        clockTz: capture.clock_tz,
        warnings: [],
        onProgress: undefined,
        derive: false,
      }
      const r = rebuildCapture(ctx)
      total = {
        sources: total.sources + r.sources,
        lines: total.lines + r.lines,
        records: total.records + r.records,
        bad: total.bad + r.bad,
        processes: total.processes + processCount(sqlite, capture.id),
      }
    }
    return total
  })()
}

/** Classifies one capture's lines again and derives it from scratch (inside rebuild's transaction). */
function rebuildCapture(ctx: FileContext): Omit<RebuildReport, 'processes'> {
  const { sqlite } = ctx.store
  const captureId = ctx.captureId
  // which instance each exec/exit line belonged to, so that ids survive
  sqlite.exec('DROP TABLE IF EXISTS temp.rebuild_link')
  sqlite.exec('CREATE TEMP TABLE rebuild_link (line_id INTEGER PRIMARY KEY, process_id INTEGER NOT NULL)')
  for (const t of ['execsnoop_event', 'exitsnoop_event']) {
    sqlite.prepare(`INSERT INTO rebuild_link SELECT line_id, process_id FROM ${t} WHERE capture_id = ? AND process_id IS NOT NULL`).run(captureId)
  }
  for (const f of ctx.formats) sqlite.prepare(`DELETE FROM ${f.name}_event WHERE capture_id = ?`).run(captureId)
  const sources = sqlite.prepare('SELECT * FROM source WHERE capture_id = ? ORDER BY id').all(captureId) as (SourceRow & {
    mtime_ms: number | null
  })[]
  const page = sqlite.prepare(
    'SELECT id, line_no, byte_offset, raw, raw_bytes, partial FROM log_line WHERE source_id = ? AND line_no > ? ORDER BY line_no LIMIT ?',
  )
  let total = { sources: 0, lines: 0, records: 0, bad: 0 }
  for (const source of sources) {
    const writer = new SourceWriter(ctx, source, { mtimeMs: source.mtime_ms ?? Date.now() }, true)
    let after = 0
    for (;;) {
      const rows = page.all(source.id, after, BATCH_LINES) as StoredLine[]
      if (rows.length === 0) break
      writer.rewrite(rows)
      after = rows.at(-1)!.line_no
    }
    total = {
      sources: total.sources + 1,
      lines: total.lines + writer.lines,
      records: total.records + writer.records,
      bad: total.bad + writer.bad,
    }
  }
  for (const t of ['execsnoop_event', 'exitsnoop_event']) {
    sqlite.exec(`UPDATE ${t} SET process_id = r.process_id FROM rebuild_link r WHERE ${t}.line_id = r.line_id`)
  }
  sqlite.exec('DROP TABLE temp.rebuild_link')
  rederive(sqlite, captureId)
  return total
}
