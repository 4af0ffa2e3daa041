import { commonMessage } from '../formats/messages.js'
import type { Layout, LineResult, LogFormat } from '../formats/types.js'
import { notAContinuation } from './continuation.js'

/** One physical line after classification, as stored in the event store. */
export interface ParsedLine {
  readonly kind: 'header' | 'record' | 'continuation' | 'message' | 'bad'
  readonly result: LineResult
}

/** What a parser remembers between calls; stored with the source to resume. */
export interface ParserState {
  readonly format: string | null
  readonly layout: Layout | null
  readonly previous: LineResult['kind'] | undefined
  /** Lines seen before a header was found (for "not a known log" decisions). */
  readonly preamble: number
  /**
   * Complete lines pushed so far, to name the record a bad line was not a
   * continuation of. Absent in states stored by older tracedb versions:
   * then line numbers stay unknown for the rest of the file.
   */
  readonly lines?: number
  /** Line number of the last record, null before the first. */
  readonly recordLine?: number | null
}

export const INITIAL_PARSER_STATE: ParserState = {
  format: null,
  layout: null,
  previous: undefined,
  preamble: 0,
  lines: 0,
  recordLine: null,
}

/**
 * Classifies the lines of one file, in order: finds the header (by content,
 * trying every format, or only `onlyFormat` when the user named the tool),
 * then hands each following line to that format. A second header of the
 * same tool (tool restarted with `>>`) switches layout. Never throws.
 */
export class SourceParser {
  readonly #formats: readonly LogFormat[]
  #format: LogFormat | undefined
  /** `[#format]` */
  #formatOnly: readonly LogFormat[] = []
  #layout: Layout | undefined
  #previous: LineResult['kind'] | undefined
  #preamble: number
  /** null: resumed from a state that did not count lines */
  #lines: number | null
  #recordLine: number | null

  constructor(formats: readonly LogFormat[], state: ParserState = INITIAL_PARSER_STATE) {
    this.#formats = formats
    this.#format = formats.find((f) => f.name === state.format)
    this.#formatOnly = this.#format ? [this.#format] : []
    this.#layout = state.layout ?? undefined
    this.#previous = state.previous
    this.#preamble = state.preamble
    this.#lines = state.lines ?? null
    this.#recordLine = state.recordLine ?? null
  }

  get format(): LogFormat | undefined {
    return this.#format
  }

  get layout(): Layout | undefined {
    return this.#layout
  }

  get state(): ParserState {
    return {
      format: this.#format?.name ?? null,
      layout: this.#layout ?? null,
      previous: this.#previous,
      preamble: this.#preamble,
      ...(this.#lines === null ? {} : { lines: this.#lines, recordLine: this.#recordLine }),
    }
  }

  /** Classify one line (without its newline). `partial`: last line, no newline. */
  push(line: string, partial = false): ParsedLine {
    // a partial line is pushed again once complete: it is not counted
    const lineNo = this.#lines === null ? null : this.#lines + 1
    if (!partial && this.#lines !== null) this.#lines++
    const parsed = this.#classify(line, partial)
    if (parsed.kind !== 'message') this.#previous = parsed.kind
    if (parsed.kind === 'record') this.#recordLine = lineNo
    return parsed
  }

  #classify(line: string, partial: boolean): ParsedLine {
    // A header (first, or a restarted tool appending to the same file).
    // (the one-element array is kept, not rebuilt for every line)
    for (const format of this.#format ? this.#formatOnly : this.#formats) {
      const detected = format.detect(line)
      if (detected === 'banner') {
        if (!this.#format) {
          this.#format = format
          this.#formatOnly = [format]
        }
        return { kind: 'message', result: { kind: 'message', message: `banner: ${line.trim()}` } }
      }
      if (detected !== undefined) {
        this.#format = format
        this.#formatOnly = [format]
        this.#layout = detected
        return { kind: 'header', result: { kind: 'header' } }
      }
    }
    const format = this.#format
    const layout = this.#layout
    if (!format || !layout) {
      const message = commonMessage(line)
      if (message !== undefined) return { kind: 'message', result: { kind: 'message', message } }
      this.#preamble++
      return {
        kind: 'bad',
        result: { kind: 'bad', reason: 'no known tool header before this line' },
      }
    }
    const result = this.#vet(line, format.classify(line, layout, { previous: this.#previous, partial }), format, layout)
    if (result.kind === 'bad' && partial) {
      return {
        kind: 'bad',
        result: { kind: 'bad', reason: `truncated last line (no newline): ${result.reason}` },
      }
    }
    return { kind: result.kind, result }
  }

  /**
   * A format glues any line it cannot read onto the previous record when its
   * rows may span lines (libbpf execsnoop ARGS); garbage and other tools'
   * rows are bad lines instead, so they neither vanish into nor corrupt it.
   */
  #vet(line: string, result: LineResult, format: LogFormat, layout: Layout): LineResult {
    if (result.kind !== 'continuation') return result
    const reason = notAContinuation(line, this.#formats, format, layout, this.#recordLine)
    return reason === undefined ? result : { kind: 'bad', reason }
  }
}

/** A record with its continuation lines merged in. */
export interface ParsedRecord {
  /** 1-based line number of the record's first line. */
  readonly line: number
  readonly values: Record<string, string | number | null>
  readonly timeText?: string
  readonly time?: unknown
}

/** Result of {@link parseText}: every line classified, records merged. */
export interface ParsedText {
  readonly format: string | null
  readonly layout: Layout | null
  readonly lines: readonly { line: number; kind: ParsedLine['kind']; detail?: string }[]
  readonly records: readonly ParsedRecord[]
}

/**
 * Parses a whole log held in memory (tests, fixtures, `tracedb parse`).
 * Ingest uses the same {@link SourceParser}, streaming.
 */
export function parseText(text: string, formats: readonly LogFormat[]): ParsedText {
  const parser = new SourceParser(formats)
  const endsWithNewline = text.endsWith('\n')
  const physical = text.split('\n')
  if (endsWithNewline) physical.pop()
  const lines: { line: number; kind: ParsedLine['kind']; detail?: string }[] = []
  const records: ParsedRecord[] = []
  physical.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    const partial = !endsWithNewline && i === physical.length - 1
    const parsed = parser.push(line, partial)
    const r = parsed.result
    switch (r.kind) {
      case 'header':
        lines.push({ line: i + 1, kind: 'header' })
        break
      case 'record':
        lines.push({ line: i + 1, kind: 'record' })
        records.push({
          line: i + 1,
          values: { ...r.values },
          ...(r.timeText !== undefined ? { timeText: r.timeText } : {}),
          ...(r.time !== undefined ? { time: r.time } : {}),
        })
        break
      case 'continuation': {
        lines.push({ line: i + 1, kind: 'continuation' })
        const last = records.at(-1)
        if (last) {
          const prev = last.values[r.column]
          last.values[r.column] = `${prev === null || prev === undefined ? '' : String(prev)}\n${r.append}`
        }
        break
      }
      case 'message':
        lines.push({ line: i + 1, kind: 'message', detail: r.message })
        break
      case 'bad':
        lines.push({ line: i + 1, kind: 'bad', detail: r.reason })
        break
    }
  })
  return {
    format: parser.format?.name ?? null,
    layout: parser.layout ?? null,
    lines,
    records,
  }
}
