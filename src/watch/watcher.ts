import chokidar, { type FSWatcher } from 'chokidar'
import { statSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { deriveNew } from '../derive/index.js'
import { InputError } from '../errors.js'
import { FORMATS } from '../formats/index.js'
import type { LogFormat } from '../formats/types.js'
import { checkDate, checkTimeZone } from '../ingest/clock.js'
import { isLogFileName, listInputFiles } from '../ingest/files.js'
import { ensureCapture, ingestFile, readCaptureJson, type FileContext, type FileReport } from '../ingest/ingest.js'
import type { Store } from '../store/open.js'

export interface WatchOptions {
  /** The directory the tools write into (one capture). */
  readonly dir: string
  readonly capture?: string
  readonly date?: string
  readonly tz?: string
  /** The host the logs come from (default: capture.json's hostname). */
  readonly host?: string
  /** How often file sizes are compared, as a safety net for lost change events (ms). */
  readonly sweepIntervalMs?: number
  /** Use polling instead of inotify (network file systems). */
  readonly poll?: boolean
  readonly formats?: readonly LogFormat[]
  /** Called after each file read that added lines. */
  readonly onReport?: (report: FileReport) => void
  readonly onWarning?: (message: string) => void
}

export interface WatchStats {
  readonly rounds: number
  readonly lines: number
  readonly records: number
  readonly bad: number
}

/**
 * Tails every log file of a directory into the store as the tools write it.
 *
 * Each file is read from its committed offset whenever it changes; a line is
 * taken only once its newline has arrived (a final unterminated line is
 * taken when the watcher stops). Files are recognised by device+inode and
 * first-line fingerprint, so truncation, rotation and replacement are seen
 * as such. Each batch of lines is derived in the transaction that writes
 * it (src/derive/index.ts): what a reader sees is always whole, and the work
 * per batch follows the batch, not the size of the store.
 *
 * ### Examples
 * ```ts
 * const watcher = new Watcher(store, { dir: './logs' })
 * await watcher.start()
 * process.on('SIGINT', () => void watcher.stop())
 * ```
 */
export class Watcher {
  readonly #store: Store
  readonly #options: WatchOptions
  readonly #dir: string
  #ctx: FileContext | undefined
  #fsWatcher: FSWatcher | undefined
  readonly #dirty = new Set<string>()
  #loop: Promise<void> | undefined
  #stopping = false
  #stats = { rounds: 0, lines: 0, records: 0, bad: 0 }
  #sweepTimer: NodeJS.Timeout | undefined
  readonly #sizes = new Map<string, number>()
  #error: unknown

  constructor(store: Store, options: WatchOptions) {
    this.#store = store
    this.#options = options
    this.#dir = resolve(options.dir)
  }

  get stats(): WatchStats {
    return { ...this.#stats }
  }

  get #captureName(): string {
    return this.#options.capture ?? basename(this.#dir)
  }

  get captureId(): number | undefined {
    return this.#ctx?.captureId
  }

  /** Reads what is already there, then follows changes. */
  async start(): Promise<void> {
    let st
    try {
      st = statSync(this.#dir)
    } catch {
      throw new InputError(`cannot watch "${this.#options.dir}": no such directory`, {
        hint: 'create it first, or point the tools at an existing directory',
      })
    }
    if (!st.isDirectory()) throw new InputError(`cannot watch "${this.#options.dir}": not a directory`)
    const date = this.#options.date === undefined ? undefined : checkDate(this.#options.date)
    const tz = this.#options.tz === undefined ? undefined : checkTimeZone(this.#options.tz)
    const { sqlite } = this.#store
    const warnings: string[] = []
    // like ingest: capture.json (tracedb record) says when and where the logs were written
    const meta = readCaptureJson([this.#dir], warnings)
    const captureId = ensureCapture(sqlite, this.#captureName, date ?? meta?.date, tz ?? meta?.tz, meta?.text, this.#options.host ?? meta?.hostname)
    const capture = sqlite.prepare('SELECT clock_date, clock_tz FROM capture WHERE id = ?').get(captureId) as {
      clock_date: string | null
      clock_tz: string | null
    }
    this.#ctx = {
      store: this.#store,
      captureId,
      formats: this.#options.formats ?? FORMATS,
      clockDate: capture.clock_date,
      clockTz: capture.clock_tz,
      warnings,
      onProgress: undefined,
      derive: true,
    }
    // lines an earlier run stored without deriving them (ingest --no-derive) are derived once, here
    deriveNew(sqlite, captureId)
    this.#fsWatcher = chokidar.watch(this.#dir, {
      depth: 0,
      ignoreInitial: true,
      usePolling: this.#options.poll ?? false,
      interval: 100,
      alwaysStat: false,
    })
    const mark = (path: string): void => this.#mark(path)
    this.#fsWatcher.on('add', mark).on('change', mark).on('unlink', mark)
    this.#fsWatcher.on('error', (error) => this.#options.onWarning?.(`watch error: ${String(error)}`))
    await new Promise<void>((ok) => this.#fsWatcher?.once('ready', () => ok()))
    // a capture.json written while watching (tracedb record writes it at the
    // end) is kept with the capture: it anchors relative clocks
    if (this.#ctx) {
      const meta = readCaptureJson([this.#dir], this.#ctx.warnings)
      if (meta) ensureCapture(this.#store.sqlite, this.#captureName, undefined, undefined, meta.text, this.#options.host ?? meta.hostname)
    }
    for (const f of listInputFiles([this.#dir])) this.#dirty.add(f.path)
    this.#kick()
    await this.#loop
    // A safety net for change events the OS or chokidar coalesced away: once
    // a second, compare file sizes (a stat per file, no reading).
    this.#sweepTimer = setInterval(() => this.#sweep(), this.#options.sweepIntervalMs ?? 1000)
    this.#sweepTimer.unref()
  }

  #sweep(): void {
    if (this.#stopping) return
    let files
    try {
      files = listInputFiles([this.#dir])
    } catch {
      return
    }
    for (const f of files) {
      if (this.#sizes.get(f.path) !== f.stats.size) {
        this.#sizes.set(f.path, f.stats.size)
        this.#mark(f.path)
      }
    }
  }

  #mark(path: string): void {
    if (this.#stopping) return
    this.#dirty.add(resolve(path))
    this.#kick()
  }

  #kick(): void {
    if (this.#loop) return
    this.#loop = this.#drain().finally(() => {
      this.#loop = undefined
      if (this.#dirty.size > 0 && !this.#stopping) this.#kick()
    })
  }

  async #drain(final = false): Promise<void> {
    const ctx = this.#ctx
    if (!ctx) return
    while (this.#dirty.size > 0) {
      const paths = [...this.#dirty].sort()
      this.#dirty.clear()
      this.#stats.rounds++
      for (const path of paths) {
        let exists = true
        try {
          exists = statSync(path).isFile()
        } catch {
          exists = false // deleted: its lines stay in the store
        }
        if (!exists) continue
        if (resolve(path, '..') !== this.#dir || !isLogFileName(basename(path))) continue
        try {
          const report = await ingestFile(ctx, path, { final })
          if (report.lines > 0) {
            this.#stats.lines += report.lines
            this.#stats.records += report.records
            this.#stats.bad += report.bad
            this.#options.onReport?.(report)
          }
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue // vanished mid-read
          this.#error = error
          this.#options.onWarning?.(`${path}: ${(error as Error).message}`)
        }
      }
      for (const w of ctx.warnings.splice(0)) this.#options.onWarning?.(w)
    }
  }

  /**
   * Stops watching: reads what is left (including a last line without
   * newline), commits, and refreshes the derived tables.
   */
  async stop(): Promise<WatchStats> {
    this.#stopping = true
    if (this.#sweepTimer) clearInterval(this.#sweepTimer)
    await this.#fsWatcher?.close()
    await this.#loop
    // a capture.json written while watching (tracedb record writes it at the
    // end) is kept with the capture: it anchors relative clocks
    if (this.#ctx) {
      const meta = readCaptureJson([this.#dir], this.#ctx.warnings)
      if (meta) ensureCapture(this.#store.sqlite, this.#captureName, undefined, undefined, meta.text, this.#options.host ?? meta.hostname)
    }
    for (const f of listInputFiles([this.#dir])) this.#dirty.add(f.path)
    await this.#drain(true)
    if (this.#error) this.#options.onWarning?.('some files could not be read; see the warnings above')
    return this.stats
  }
}
