import { UsageError } from '../errors.js'
import type { RecordTime } from '../formats/types.js'

/**
 * Anchors the times tools print without a date to absolute UTC instants.
 *
 * Wall-clock columns (`HH:MM:SS`, `HH:MM:SS.mmm`) are the host's local time
 * (or UTC for exitsnoop --utc) at print time; the date and zone come from
 * the capture (`--date`, `--tz`) or, failing that, the file's modification
 * time. Times that go backwards by more than 12 h roll over to the next day.
 */

/**
 * `s`/`ms`: a printed wall-clock time of that resolution; `derived`: a
 * relative time (seconds since the tool started or since its first event)
 * anchored to the tool's start; `relative`: such a time with no anchor known
 * (no timestamp).
 */
export type Precision = 's' | 'ms' | 'derived' | 'relative'

export interface Normalized {
  /** Nanoseconds since the Unix epoch (UTC), or null when not derivable. */
  readonly ts: bigint | null
  readonly precision: Precision | null
}

export interface ClockAnchor {
  /** `YYYY-MM-DD`: the local date of the source's first wall-clock time. */
  readonly date: string
  /** IANA zone (`Europe/Berlin`), `UTC`, or a fixed offset `+02:00`. */
  readonly tz: string
  /**
   * When the date came from the file's mtime (the end of the capture): the
   * mtime's local seconds-of-day, so a first time later than it means the
   * capture started the day before.
   */
  readonly endSecondsOfDay?: number
  /**
   * UTC ms when the tool started (capture.json's `header_utc`/`started_utc`,
   * else the log file's creation time): relative times count from here.
   */
  readonly startMs?: number
}

/** Serialisable per-source clock state (stored with the source). */
export interface ClockState {
  readonly anchor: ClockAnchor
  /** Days added so far for midnight roll-over; null until the first time. */
  readonly dayOffset: number | null
  readonly lastSecondsOfDay: number | null
}

const DAY = 86_400
const HALF_DAY = DAY / 2

/** Validates `--tz`: an IANA zone name, `UTC`, or `+HH:MM`/`-HH:MM`. */
export function checkTimeZone(tz: string): string {
  if (/^[+-]\d{2}:?\d{2}$/.test(tz) || tz === 'UTC') return tz
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return tz
  } catch {
    throw new UsageError(`unknown time zone "${tz}"`, {
      hint: 'use an IANA name such as Europe/Berlin or America/New_York, UTC, or an offset like +02:00',
    })
  }
}

/** Validates `--date`. */
export function checkDate(date: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date)
  const d = m ? new Date(`${date}T00:00:00Z`) : undefined
  if (!m || !d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== date) {
    throw new UsageError(`invalid date "${date}"`, { hint: 'use YYYY-MM-DD, e.g. --date 2026-11-28' })
  }
  return date
}

/** The zone tracedb assumes when none is given: the machine's own. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone
}

const formatters = new Map<string, Intl.DateTimeFormat>()
const offsetCache = new Map<string, number>()

/** Offset of `tz` from UTC in seconds at the UTC instant `utcSeconds`. */
export function zoneOffsetSeconds(tz: string, utcSeconds: number): number {
  if (tz === 'UTC') return 0
  const fixed = /^([+-])(\d{2}):?(\d{2})$/.exec(tz)
  if (fixed) {
    const s = Number(fixed[2]) * 3600 + Number(fixed[3]) * 60
    return fixed[1] === '-' ? -s : s
  }
  // Offsets change at most at hour boundaries in practice: cache per hour.
  const hour = Math.floor(utcSeconds / 3600)
  const key = `${tz}@${String(hour)}`
  const cached = offsetCache.get(key)
  if (cached !== undefined) return cached
  let fmt = formatters.get(tz)
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
    formatters.set(tz, fmt)
  }
  const parts: Record<string, number> = {}
  for (const p of fmt.formatToParts(new Date(hour * 3600 * 1000))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value)
  }
  const asUtc = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  )
  const offset = Math.round(asUtc / 1000 - hour * 3600)
  offsetCache.set(key, offset)
  return offset
}

/** UTC seconds of a local wall-clock time (seconds since the epoch as if UTC). */
export function localToUtcSeconds(tz: string, localSeconds: number): number {
  let offset = zoneOffsetSeconds(tz, localSeconds)
  const guess = localSeconds - offset
  offset = zoneOffsetSeconds(tz, guess)
  return localSeconds - offset
}

/** The local date (YYYY-MM-DD) and seconds-of-day of a UTC instant in `tz`. */
export function localDateOf(tz: string, utcMs: number): { date: string; secondsOfDay: number } {
  const local = utcMs / 1000 + zoneOffsetSeconds(tz, utcMs / 1000)
  const day = Math.floor(local / DAY)
  const date = new Date(day * DAY * 1000).toISOString().slice(0, 10)
  return { date, secondsOfDay: local - day * DAY }
}

const daysCache = new Map<string, number>()

/** Days since the epoch of a `YYYY-MM-DD` date (cached: called once per record). */
function dateToDays(date: string): number {
  const cached = daysCache.get(date)
  if (cached !== undefined) return cached
  const days = parseDays(date)
  daysCache.set(date, days)
  return days
}

function parseDays(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / 1000 / DAY)
}

/**
 * Converts record times of one source to absolute timestamps, tracking the
 * day across midnight.
 */
export class SourceClock {
  #anchor: ClockAnchor
  #dayOffset: number | null
  #last: number | null
  #toolStart: (() => number | undefined) | undefined

  /**
   * `toolStart` is asked once, at the first relative time, when the tool
   * started (UTC ms); the answer is kept in the state.
   */
  constructor(state: ClockState, toolStart?: () => number | undefined) {
    this.#anchor = state.anchor
    this.#toolStart = toolStart
    this.#dayOffset = state.dayOffset
    this.#last = state.lastSecondsOfDay
  }

  get state(): ClockState {
    return { anchor: this.#anchor, dayOffset: this.#dayOffset, lastSecondsOfDay: this.#last }
  }

  normalize(time: RecordTime | undefined): Normalized {
    if (!time) return { ts: null, precision: null }
    if (time.kind === 'relative') {
      if (this.#anchor.startMs === undefined && this.#toolStart) {
        const startMs = this.#toolStart()
        this.#toolStart = undefined
        if (startMs !== undefined) this.#anchor = { ...this.#anchor, startMs }
      }
      const start = this.#anchor.startMs
      if (start === undefined || !Number.isFinite(time.seconds)) return { ts: null, precision: 'relative' }
      const ns = BigInt(Math.round(start)) * 1_000_000n + BigInt(Math.round(time.seconds * 1e6)) * 1000n
      return { ts: ns, precision: 'derived' }
    }
    const secondsOfDay = time.hour * 3600 + time.minute * 60 + time.second
    if (this.#dayOffset === null) {
      // A capture whose date came from the file's end time but whose first
      // line is later in the day than that end started the day before.
      const end = this.#anchor.endSecondsOfDay
      this.#dayOffset = end !== undefined && secondsOfDay > end + 60 ? -1 : 0
    } else if (this.#last !== null && secondsOfDay < this.#last - HALF_DAY) {
      this.#dayOffset++
    } else if (this.#last !== null && secondsOfDay > this.#last + HALF_DAY) {
      // a late line from before midnight, printed after a roll-over was seen
      return this.#toTs(time, secondsOfDay, this.#dayOffset - 1)
    }
    this.#last = secondsOfDay
    return this.#toTs(time, secondsOfDay, this.#dayOffset)
  }

  #toTs(time: RecordTime & { kind: 'clock' }, secondsOfDay: number, dayOffset: number): Normalized {
    const localSeconds = (dateToDays(this.#anchor.date) + dayOffset) * DAY + secondsOfDay
    const utcSeconds = time.utc ? localSeconds : localToUtcSeconds(this.#anchor.tz, localSeconds)
    const ms = time.millis ?? 0
    return {
      ts: BigInt(utcSeconds) * 1_000_000_000n + BigInt(ms) * 1_000_000n,
      precision: time.millis === undefined ? 's' : 'ms',
    }
  }
}
