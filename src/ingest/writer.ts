import type BetterSqlite3 from 'better-sqlite3'
import { createHash } from 'node:crypto'
import { statSync } from 'node:fs'
import { basename } from 'node:path'
import { deriveNew, lowerWatermark } from '../derive/index.js'
import { DatabaseError } from '../errors.js'
import { findFormat } from '../formats/index.js'
import type { LogFormat } from '../formats/types.js'
import type { Store } from '../store/open.js'
import { RowBatch, ROWS_PER_STATEMENT, valuesSql } from '../store/batch.js'
import { EVENT_COLUMNS } from '../store/schema.js'
import { anchoredPrecision, localDateOf, localTimeZone, SourceClock, type ClockState, type RelativeAnchor, type ToolStart } from './clock.js'
import { decodeLine, lineBytes, type TextLine } from './lines.js'
import { INITIAL_PARSER_STATE, SourceParser, type ParserState } from './source-parser.js'
import type { FileContext, FileReport } from './types.js'

/**
 * Writes the lines of one source, batch by batch: each batch's lines, its
 * records, the source's new offset and parser state, and the derivation of
 * what the batch changed, in one transaction.
 */

const now = (): string => new Date().toISOString()

export interface SourceRow {
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

export interface StoredState {
  parser: ParserState
  clock: ClockState | null
  /** sha1 of the last committed line (offset, length): a rewrite is told from an append. */
  tail?: { offset: number; length: number; sha1: string } | null | undefined
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
export interface StoredLine {
  id: number
  line_no: number
  byte_offset: number
  raw: string
  raw_bytes: Buffer | null
  partial: number
}

const LINE_COLUMNS = 'id, capture_id, source_id, line_no, byte_offset, kind, raw, raw_bytes, detail, partial'

/** Writes the lines of one source, batch by batch, each batch one transaction. */
export class SourceWriter {
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
  #conflictWarned = false
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
    this.#clock = stored?.clock ? new SourceClock(stored.clock, (withWall) => this.#toolStart(withWall)) : null
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
    this.#clock = new SourceClock({ anchor, dayOffset: null, lastSecondsOfDay: null }, (withWall) => this.#toolStart(withWall))
    return this.#clock
  }

  /**
   * When the tool behind this source started, for relative clocks (-t,
   * biosnoop's seconds since its first I/O): from the capture's
   * capture.json (the time its header appeared), else, when no date was
   * given either, the file's creation time — the shell creates a `>`
   * redirect just before the tool starts.
   */
  #toolStart(withWall: boolean): ToolStart | undefined {
    const meta = this.#ctx.store.sqlite.prepare('SELECT meta FROM capture WHERE id = ?').pluck().get(this.#ctx.captureId) as
      | string
      | null
    const name = basename(this.#source.path)
    try {
      const tools = (JSON.parse(meta ?? '{}') as { tools?: Record<string, { log?: string; header_utc?: string | null; started_utc?: string }> }).tools
      for (const t of Object.values(tools ?? {})) {
        if (t.log !== name) continue
        const ms = Date.parse(t.header_utc ?? t.started_utc ?? '')
        // the tool started after it was spawned and before its header was seen
        const low = t.header_utc ? Date.parse(t.started_utc ?? '') : NaN
        if (!Number.isNaN(ms)) return { ms, ...(Number.isNaN(low) || low > ms ? {} : { lowMs: low }), from: 'capture.json' }
      }
    } catch {
      // an unreadable capture.json was reported when it was read
    }
    // wall-clock seconds beside the relative times place them to the ms: a
    // file's creation time would only be worse
    if (withWall) return undefined
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
        return { ms: born, from: 'file' }
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
      const anchorBefore = this.#clock?.relativeAnchor ?? null
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
      const moved = this.#placeAgain(anchorBefore)
      // the batch's lines and what they imply commit together
      if (this.#ctx.derive) {
        try {
          deriveNew(sqlite, capture, { touchedLines, pids: [...droppedPids, ...moved] })
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
      this.#saveAnchor()
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

  /**
   * When this batch moved the anchor of the source's relative clock
   * (execsnoop -T -t: each line narrows it), every row of the source
   * counted from it is placed again, so that the rows are what one pass
   * over the whole file gives; returns the PIDs of the rows moved (their
   * instances are derived again). The anchor sits on a whole ms, so it
   * moves a few times early in a file and seldom after.
   */
  #placeAgain(before: RelativeAnchor | null): number[] {
    const anchor = this.#clock?.relativeAnchor
    const format = this.#parser.format
    const column = format?.relativeColumn
    if (!anchor || !format || column === undefined) return []
    const { sqlite } = this.#ctx.store
    const precision = anchoredPrecision(anchor.width)
    if (anchor.point === before?.point) {
      // the point stayed; the rows' precision changes with the anchor's (a few times at most)
      if (precision === anchoredPrecision(before.width)) return []
      sqlite
        .prepare(
          `UPDATE ${format.name}_event SET ts_precision = ?
           WHERE source_id = ? AND ${column} IS NOT NULL AND time_text LIKE '__:__:__ %' AND ts_precision IS NOT ?`,
        )
        .run(precision, this.#source.id, precision)
      return []
    }
    // (rows with a wall second beside their TIME(s): a row an older tracedb stored from -T -t kept only the second)
    const rows = sqlite
      .prepare(
        `UPDATE ${format.name}_event SET ts = ? + CAST(round(${column} * 1e6) AS INTEGER) * 1000, ts_precision = ?
         WHERE source_id = ? AND ${column} IS NOT NULL AND time_text LIKE '__:__:__ %' RETURNING pid`,
      )
      .pluck()
      .all(BigInt(anchor.point) * 1000n, precision, this.#source.id) as (number | null)[]
    return [...new Set(rows.filter((p): p is number => typeof p === 'number'))]
  }

  /** The source's relative-clock anchor, for readers (source.rel_anchor_*). */
  #saveAnchor(): void {
    const clock = this.#clock
    if (!clock) return
    const a = clock.relativeAnchor
    const start = clock.state.anchor
    let row: [bigint | null, number | null, string | null, number | null] = [null, null, null, null]
    if (a) {
      row = [BigInt(a.point) * 1000n, a.width / 2000, a.conflict ? `${a.from} (contradicting: clocks stepped?)` : a.from, a.lines]
      if (a.conflict && !this.#conflictWarned) {
        this.#conflictWarned = true
        this.#ctx.warnings.push(
          `${this.#source.path}: the wall-clock and TIME(s) columns disagree by ${String(Math.round(a.width / 1000))} ms across lines (was the clock stepped while tracing?); times are placed from the middle`,
        )
      }
    } else if (start.startMs !== undefined && this.#parser.layout?.relative === true) {
      const err = start.startLowMs === undefined ? null : start.startMs - start.startLowMs
      row = [BigInt(Math.round(start.startMs)) * 1_000_000n, err, start.startFrom === 'file' ? 'file creation time' : 'capture.json', 0]
    }
    this.#ctx.store.sqlite
      .prepare('UPDATE source SET rel_anchor_ts = ?, rel_anchor_error_ms = ?, rel_anchor_source = ?, rel_anchor_lines = ? WHERE id = ?')
      .run(...row, this.#source.id)
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

