/**
 * `watch --push URL`: ships a capture to the centre as its batches commit.
 *
 * The pusher reads the store through a connection of its own (read-only, so
 * each push unit reads one snapshot while the watcher goes on writing) and
 * pushes after each round of batches, one push at a time: batches that
 * commit during a push are taken by the next one. The centre being
 * unreachable never stops the recording: the failure is reported, and the
 * push is tried again after a pause that grows to {@link MAX_RETRY_MS}.
 */
import type BetterSqlite3 from 'better-sqlite3'
import type pg from 'pg'
import { openStore, type Store } from '../store/open.js'
import { connectCentre } from './centre.js'
import { pushCapture, type PushOptions, type PushReport } from './push.js'

const FIRST_RETRY_MS = 1_000
const MAX_RETRY_MS = 30_000

export interface LivePushOptions extends PushOptions {
  /** a push failed (the centre unreachable, …); it is tried again after `retryMs` */
  readonly onError?: (error: Error, retryMs: number) => void
  /** a push completed */
  readonly onPushed?: (report: PushReport) => void
  /** the first push after failures succeeded */
  readonly onRecovered?: () => void
}

export class LivePusher {
  readonly #dbPath: string
  readonly #url: string
  readonly #captureId: number
  readonly #options: LivePushOptions
  #store: Store | undefined
  #client: pg.Client | undefined
  #running: Promise<void> | undefined
  #again = false
  #stopped = false
  #failures = 0
  #retry: NodeJS.Timeout | undefined

  constructor(dbPath: string, url: string, captureId: number, options: LivePushOptions = {}) {
    this.#dbPath = dbPath
    this.#url = url
    this.#captureId = captureId
    this.#options = options
  }

  /** Something was committed: push it (now, or after the push under way). */
  kick(): void {
    if (this.#stopped) return
    if (this.#running) {
      this.#again = true
      return
    }
    if (this.#retry) return // a retry is scheduled: it will take this too
    this.#running = this.#pushOnce().finally(() => {
      this.#running = undefined
      if (this.#again && !this.#stopped && !this.#retry) {
        this.#again = false
        this.kick()
      }
    })
  }

  async #pushOnce(): Promise<void> {
    try {
      await this.#push()
      if (this.#failures > 0) this.#options.onRecovered?.()
      this.#failures = 0
    } catch (error) {
      await this.#disconnect()
      this.#failures++
      const wait = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (this.#failures - 1))
      this.#options.onError?.(error as Error, wait)
      if (!this.#stopped) {
        this.#retry = setTimeout(() => {
          this.#retry = undefined
          this.kick()
        }, wait)
        this.#retry.unref()
      }
    }
  }

  async #push(): Promise<void> {
    this.#store ??= openStore(this.#dbPath, { readonly: true })
    this.#client ??= await connectCentre(this.#url)
    const edge: BetterSqlite3.Database = this.#store.sqlite
    const report = await pushCapture(edge, this.#client, this.#captureId, this.#options)
    this.#options.onPushed?.(report)
  }

  async #disconnect(): Promise<void> {
    const client = this.#client
    this.#client = undefined
    await client?.end().catch(() => undefined)
  }

  /**
   * Stops after one last push of everything committed (the watcher has
   * stopped and flushed). Throws when that last push fails: the caller says
   * that the store has it all and `tracedb push` will ship it.
   */
  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#retry) clearTimeout(this.#retry)
    this.#retry = undefined
    await this.#running
    try {
      await this.#push()
    } finally {
      await this.#disconnect()
      this.#store?.close()
      this.#store = undefined
    }
  }
}
