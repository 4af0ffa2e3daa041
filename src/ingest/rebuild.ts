import { processCount, rederive } from '../derive/index.js'
import { InputError } from '../errors.js'
import { FORMATS } from '../formats/index.js'
import type { LogFormat } from '../formats/types.js'
import type { Store } from '../store/open.js'
import { BATCH_LINES, type FileContext } from './types.js'
import { SourceWriter, type SourceRow, type StoredLine } from './writer.js'

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
