import { open, type FileHandle } from 'node:fs/promises'
import { deriveNew, derivedThrough, processCount } from '../derive/index.js'
import { InputError } from '../errors.js'
import { FORMATS } from '../formats/index.js'
import type { Store } from '../store/open.js'
import { ensureCapture, readCaptureJson } from './capture.js'
import { checkDate, checkTimeZone } from './clock.js'
import { fingerprintOf, sniff, tailMatches } from './detect.js'
import { defaultCaptureName, listInputFiles } from './files.js'
import { readLineChunks, type TextLine } from './lines.js'
import { BATCH_LINES, type FileContext, type FileOptions, type FileReport, type IngestOptions, type IngestReport } from './types.js'
import { SourceWriter, type SourceRow } from './writer.js'

/**
 * Reading: which files, which sources, from which offsets. The pieces live
 * beside this module: types.ts (options and reports), capture.ts (captures
 * and capture.json), detect.ts (recognising a file and its tool),
 * writer.ts (writing a source's lines batch by batch), rebuild.ts
 * (classifying stored lines again).
 */
export { ensureCapture, readCaptureJson, type CaptureMeta } from './capture.js'
export { rebuild, type RebuildReport } from './rebuild.js'
export { BATCH_LINES, type FileContext, type FileOptions, type FileReport, type IngestOptions, type IngestProgress, type IngestReport } from './types.js'

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
  const captureId = ensureCapture(store.sqlite, captureName, date ?? meta?.date, tz ?? meta?.tz, meta?.text, options.host ?? meta?.hostname)
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

/**
 * Ingests one file from its committed offset. Used by `ingest` (final: the
 * file is complete) and by the watcher (not final: a line without newline is
 * left for later).
 */
export async function ingestFile(ctx: FileContext, path: string, options: FileOptions): Promise<FileReport> {
  // One handle for recognising and reading: a file renamed away and
  // replaced meanwhile (a rotation under way) cannot lend its identity to
  // the other's bytes.
  const handle = await open(path, 'r')
  try {
    return await ingestHandle(ctx, path, handle, options)
  } finally {
    await handle.close()
  }
}

async function ingestHandle(ctx: FileContext, path: string, handle: FileHandle, options: FileOptions): Promise<FileReport> {
  const { sqlite } = ctx.store
  const st = await handle.stat()
  const { fingerprint, head } = await fingerprintOf(handle)
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
    if (!sameFile || st.size < source.committed_offset || !(await tailMatches(handle, source.parser_state))) {
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

  return readSource(ctx, source, handle, st, status, options)
}

/** The lines of a source from its committed offset, in batched transactions. */
async function readSource(
  ctx: FileContext,
  source: SourceRow,
  handle: FileHandle,
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
  for await (const lines of readLineChunks(handle, { start, includePartial: options.final })) {
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

