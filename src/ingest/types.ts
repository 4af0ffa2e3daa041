import type { LogFormat } from '../formats/types.js'
import type { Store } from '../store/open.js'

/**
 * Lines written per transaction (with the source's offset), at least: whole
 * chunks of the reader are taken. Commits are cheap in WAL mode with
 * synchronous=NORMAL (no fsync); larger batches gained nothing measurable.
 */
export const BATCH_LINES = 20_000


export interface IngestOptions {
  /** Directories (a capture each) or log files. */
  readonly paths: readonly string[]
  /** Capture name; default: the directory's name. */
  readonly capture?: string
  /** `YYYY-MM-DD` date of the wall-clock times; default: each file's mtime. */
  readonly date?: string
  /** Time zone of the wall-clock times; default: this machine's. */
  readonly tz?: string
  /** The host the logs were recorded on; default: capture.json's hostname. */
  readonly host?: string
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

