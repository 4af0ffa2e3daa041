import type BetterSqlite3 from 'better-sqlite3'
import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkTimeZone, localDateOf } from './clock.js'

const now = (): string => new Date().toISOString()

/** What `capture.json` (written by examples/capture.sh or `tracedb record`) says about the clocks. */
export interface CaptureMeta {
  readonly date: string
  readonly tz: string
  readonly text: string
  /** the host the logs were recorded on (capture.json's `hostname`) */
  readonly hostname: string | undefined
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
    const json = JSON.parse(text) as { start_utc?: unknown; tz?: unknown; hostname?: unknown }
    if (typeof json.start_utc !== 'string' || typeof json.tz !== 'string') throw new Error('needs "start_utc" and "tz"')
    const start = Date.parse(json.start_utc)
    if (Number.isNaN(start)) throw new Error(`bad start_utc "${json.start_utc}"`)
    const tz = checkTimeZone(json.tz)
    const hostname = typeof json.hostname === 'string' && json.hostname !== '' ? json.hostname : undefined
    return { date: localDateOf(tz, start).date, tz, text, hostname }
  } catch (error) {
    warnings.push(`${file}: ignored (${(error as Error).message})`)
    return undefined
  }
}

/**
 * Find or create a capture; a given date/zone/host is remembered for later
 * runs. A new capture gets a random UUID as its `uid`, its identity on a
 * shared PostgreSQL where many hosts push captures of the same name.
 */
export function ensureCapture(
  sqlite: BetterSqlite3.Database,
  name: string,
  date?: string,
  tz?: string,
  meta?: string,
  host?: string,
): number {
  const existing = sqlite.prepare('SELECT id FROM capture WHERE name = ?').get(name) as { id: number } | undefined
  const t = now()
  if (existing) {
    sqlite
      .prepare(
        'UPDATE capture SET updated_at = ?, clock_date = coalesce(?, clock_date), clock_tz = coalesce(?, clock_tz), meta = coalesce(?, meta), host = coalesce(?, host) WHERE id = ?',
      )
      .run(t, date ?? null, tz ?? null, meta ?? null, host ?? null, existing.id)
    return existing.id
  }
  const info = sqlite
    .prepare('INSERT INTO capture (name, created_at, updated_at, clock_date, clock_tz, meta, uid, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    .run(name, t, t, date ?? null, tz ?? null, meta ?? null, randomUUID(), host ?? null)
  return Number(info.lastInsertRowid)
}

