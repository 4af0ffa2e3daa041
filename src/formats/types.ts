/**
 * The contract every tool format implements.
 *
 * A format is mostly data (name, title, columns, samples) plus three small
 * functions: `detect` recognises the tool's header line (or banner) and
 * returns a serialisable `layout` describing the variant; `classify` turns one
 * physical line into a typed {@link LineResult}; nothing here throws on an odd
 * line — a line that does not parse is returned as `bad` with a reason.
 */

/** SQLite storage class of a column. */
export type ColumnKind = 'integer' | 'real' | 'text'

/** One column of a format's normalized table (`<format>_event`). */
export interface Column {
  /** snake_case column name in the SQL table. */
  readonly name: string
  readonly kind: ColumnKind
  /** Unit of the value, e.g. `ms`, `s`, `bytes`, `KiB`. */
  readonly unit?: string
  /** One sentence a user reads in `tracedb schema`. */
  readonly description: string
}

/**
 * The time printed on a record, before it is anchored to a date and zone.
 *
 * - `clock`: a wall-clock time of day without a date (`HH:MM:SS` or
 *   `HH:MM:SS.mmm`). `utc` is true when the tool printed UTC (exitsnoop
 *   `--utc`), false for the host's local zone.
 * - `relative`: seconds since the tool started (`since: 'tool_start'`,
 *   execsnoop -t) or since the first event it printed (`'first_event'`).
 */
export type RecordTime =
  | {
      readonly kind: 'clock'
      readonly hour: number
      readonly minute: number
      readonly second: number
      /** milliseconds, when printed; absent for whole-second clocks. */
      readonly millis?: number
      readonly utc: boolean
    }
  | {
      readonly kind: 'relative'
      readonly seconds: number
      readonly since: 'tool_start' | 'first_event'
      /** decimal places printed, e.g. 3 for `12.345`. */
      readonly decimals: number
      /**
       * The whole-second wall-clock time printed beside it (libbpf execsnoop
       * `-T -t`), read at the same instant: every such pair bounds the
       * instant the relative clock counts from (see SourceClock).
       */
      readonly wall?: { readonly hour: number; readonly minute: number; readonly second: number; readonly utc: boolean }
    }

/** Values of one record, keyed by the format's column names. */
export type RowValues = Record<string, string | number | null>

/**
 * What one physical line is.
 *
 * - `header`: the column header line (also returned by `detect`).
 * - `record`: one event; `values` has one entry per declared column
 *   (missing ones are stored as NULL), `time`/`timeText` when the line has a time.
 * - `continuation`: the line continues the previous record (libbpf execsnoop
 *   prints raw newlines inside arguments); `append` says which column grows
 *   and by what text (joined with `\n`).
 * - `message`: a line the tool (or libbpf, or the shell) printed that is not a
 *   row: banners, `Lost N events`, loader errors, blank lines, count summaries.
 * - `bad`: a line that should have been a row but is not; `reason` says why.
 */
export type LineResult =
  | { readonly kind: 'header' }
  | {
      readonly kind: 'record'
      readonly values: RowValues
      readonly time?: RecordTime
      readonly timeText?: string
    }
  | { readonly kind: 'continuation'; readonly column: string; readonly append: string }
  | { readonly kind: 'message'; readonly message: string }
  | { readonly kind: 'bad'; readonly reason: string }

/** Context passed to {@link LogFormat.classify}. */
export interface ClassifyContext {
  /** Kind of the previous non-message line of the same file (for continuations). */
  readonly previous: LineResult['kind'] | undefined
  /** True when this is the last line of the file and it has no trailing newline. */
  readonly partial: boolean
}

/**
 * A recognised header: the variant and whatever the parser needs to read the
 * rows that follow. Must be JSON-serialisable: it is stored with the source
 * so that a resumed ingest continues with the same layout.
 */
export interface Layout {
  /** e.g. `libbpf`, `python`, `python-old`. */
  readonly variant: string
  /** Flags implied by the header, for display (e.g. `-T -U`). */
  readonly flags: readonly string[]
  readonly [key: string]: unknown
}

/** A real sample: a header and lines that must parse as records. */
export interface Sample {
  readonly header: string
  readonly lines: readonly string[]
}

export interface LogFormat<L extends Layout = Layout> {
  /** Tool name, also the SQL table stem: `<name>_event`. */
  readonly name: string
  readonly title: string
  readonly description: string
  /** The tool's documentation. */
  readonly url: string
  /** Columns of `<name>_event`, in table order, without the common ones. */
  readonly columns: readonly Column[]
  /**
   * The column holding a relative time (seconds since the tool started) that
   * rows with a wall-clock beside it are placed from (execsnoop `-T -t`):
   * when the anchor moves, rows are placed again from it.
   */
  readonly relativeColumn?: string
  /**
   * Recognise a header (or a banner that is always followed by one).
   * Returns the layout for a header, `'banner'` for a banner line of this
   * tool, or undefined when the line is not this tool's.
   */
  detect(line: string): L | 'banner' | undefined
  /** Classify one physical line (without its newline) that follows the header. */
  classify(line: string, layout: L, ctx: ClassifyContext): LineResult
  readonly samples: readonly Sample[]
}
