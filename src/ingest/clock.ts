import { UsageError } from '../errors.js'
import type { RecordTime } from '../formats/types.js'

/**
 * Anchors the times tools print without a date to absolute UTC instants.
 *
 * Wall-clock columns (`HH:MM:SS`, `HH:MM:SS.mmm`) are the host's local time
 * (or UTC for exitsnoop --utc) at print time; the date and zone come from
 * the capture (`--date`, `--tz`) or, failing that, the file's modification
 * time. Times that go backwards by more than 12 h roll over to the next day;
 * the hour repeated when clocks go back is told apart by the log's order.
 */

/**
 * `s`/`ms`: a printed wall-clock time of that resolution; `derived`: a
 * relative time (seconds since the tool started or since its first event)
 * anchored to the tool's start as capture.json or the file's creation time
 * gives it; `relative`: such a time with no anchor known (no timestamp).
 * `ms`/`10ms`/`100ms`/`s` are also given to a relative time whose anchor was
 * pinned that closely (execsnoop `-T -t`, see {@link RelativeBounds}).
 */
export type Precision = 's' | 'ms' | '10ms' | '100ms' | 'derived' | 'relative'

/**
 * What bounds the instant a relative clock (`TIME(s)`, seconds since the tool
 * started) counts from, in µs since the epoch. A tool printing both columns
 * (execsnoop `-T -t`) reads them at the same instant, so every line says
 * `wall second <= anchor + TIME(s) < wall second + 1` (within the printed
 * ms); capture.json says it lies between the tool's spawn (`started_utc`)
 * and the first sight of its header (`header_utc`). The bounds are the
 * intersection of all of them: a pure function of the lines, whatever the
 * order or the batches they came in.
 */
export interface RelativeBounds {
  /** bounds from the lines alone (lo > hi: the lines contradict each other) */
  readonly linesLo: number
  readonly linesHi: number
  /** how many lines bounded it */
  readonly lines: number
  /** capture.json's [started_utc, header_utc], when known */
  readonly captureLo: number | null
  readonly captureHi: number | null
}

/** The anchor that {@link RelativeBounds} give, and what it is worth. */
export interface RelativeAnchor {
  /** µs since the epoch, on a whole ms: the middle of the bounds */
  readonly point: number
  /** width of the bounds in µs (how far the point may be off, twice) */
  readonly width: number
  /** what bounded it: `lines`, `lines+capture.json` */
  readonly from: string
  readonly lines: number
  /** the lines contradict each other (the clocks were stepped while tracing?) */
  readonly conflict: boolean
}

/**
 * Slack (µs) of one line's bound: TIME(s) is printed rounded to the ms, and
 * the two clocks are read a few µs apart.
 */
const LINE_SLACK = 1_000

/** The anchor of some bounds; capture.json's bounds count only when they agree with the lines. */
export function relativeAnchor(b: RelativeBounds): RelativeAnchor {
  let lo = b.linesLo
  let hi = b.linesHi
  let from = 'lines'
  if (b.captureLo !== null && b.captureHi !== null && lo <= hi) {
    const l = Math.max(lo, b.captureLo)
    const h = Math.min(hi, b.captureHi)
    if (l <= h && (l > lo || h < hi)) {
      lo = l
      hi = h
      from = 'lines+capture.json'
    }
  }
  const point = Math.round((lo + hi) / 2 / 1000) * 1000
  return { point, width: Math.abs(hi - lo), from, lines: b.lines, conflict: lo > hi }
}

/** The precision of a time counted from an anchor known within `width` µs. */
export function anchoredPrecision(width: number): Precision {
  if (width <= 2_000) return 'ms'
  if (width <= 20_000) return '10ms'
  if (width <= 200_000) return '100ms'
  return 's'
}

export interface Normalized {
  /** Nanoseconds since the Unix epoch (UTC), or null when not derivable. */
  readonly ts: bigint | null
  readonly precision: Precision | null
  /**
   * Set when the local time was not plain: `repeated` (it occurs twice at a
   * fall-back; placed by the order of the log) or `gap` (it does not exist
   * at a spring-forward; read with the offset before the gap).
   */
  readonly local?: 'repeated' | 'gap'
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
  /** capture.json's `started_utc` (ms), when it also gave `header_utc`: the start lies in [startLowMs, startMs]. */
  readonly startLowMs?: number
  /** where startMs came from: `capture.json` or `file` (its creation time) */
  readonly startFrom?: 'capture.json' | 'file'
}

/** When the tool started, as the capture says it ({@link SourceClock}'s `toolStart`). */
export interface ToolStart {
  readonly ms: number
  readonly lowMs?: number
  readonly from: 'capture.json' | 'file'
}

/** Serialisable per-source clock state (stored with the source). */
export interface ClockState {
  readonly anchor: ClockAnchor
  /** Days added so far for midnight roll-over; null until the first time. */
  readonly dayOffset: number | null
  readonly lastSecondsOfDay: number | null
  /**
   * UTC seconds of the last wall-clock time placed, to tell the two
   * occurrences of a repeated local hour apart. Absent in states stored by
   * older tracedb versions and until the first time.
   */
  readonly lastUtc?: number | null
  /** Bounds of a relative clock printed beside a wall clock (execsnoop -T -t); absent until the first such line. */
  readonly relative?: RelativeBounds | null
}

const DAY = 86_400
const HALF_DAY = DAY / 2
/**
 * How far (s) a line may print a time before the last one and still be read
 * as a late line, not as the next occurrence of a repeated local hour.
 */
const LATE_SLACK = 60

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

function formatterOf(tz: string): Intl.DateTimeFormat {
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
  return fmt
}

const fixedOffsets = new Map<string, number | null>()

/** `UTC`, `+02:00`, `-0530` in seconds, or undefined for a zone name (cached: asked for every time). */
function fixedOffset(tz: string): number | undefined {
  let offset = fixedOffsets.get(tz)
  if (offset === undefined) {
    offset = parseFixedOffset(tz)
    fixedOffsets.set(tz, offset)
  }
  return offset ?? undefined
}

function parseFixedOffset(tz: string): number | null {
  if (tz === 'UTC') return 0
  const fixed = /^([+-])(\d{2}):?(\d{2})$/.exec(tz)
  if (!fixed) return null
  const s = Number(fixed[2]) * 3600 + Number(fixed[3]) * 60
  return fixed[1] === '-' ? -s : s
}

/**
 * Offset of `tz` from UTC in seconds at the UTC instant `utcSeconds`, exact
 * to the second (not cached: offsets change at any minute, e.g. at 16:30Z
 * in Australia/Adelaide). The hot path caches per local hour instead: see
 * {@link localInstants}.
 */
export function zoneOffsetSeconds(tz: string, utcSeconds: number): number {
  const fixed = fixedOffset(tz)
  if (fixed !== undefined) return fixed
  const at = Math.floor(utcSeconds)
  const parts: Record<string, number> = {}
  for (const p of formatterOf(tz).formatToParts(new Date(at * 1000))) {
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
  return Math.round(asUtc / 1000 - at)
}

/**
 * How the local wall-clock times of one local hour map to UTC: the offsets
 * in force a day before and a day after it and, when they differ, the
 * first UTC second of the later one. A day either side covers every UTC
 * instant whose local time can fall into the hour (offsets are within
 * -12 h .. +14 h). Assumes at most one offset change in those two days:
 * no zone has had two within three days from 1970 to 2037 (checked
 * against tzdata 2025c); before 1970 some did, and times there may be off.
 */
interface HourRule {
  readonly before: number
  readonly after: number
  /** First UTC second with offset `after`; Infinity when there is no change. */
  readonly at: number
}

const HOUR = 3600
/** tz → local hour (hours since the epoch, local time read as UTC) → rule. */
const hourRules = new Map<string, Map<number, HourRule>>()

/** The rule of the local hour holding `localSeconds` (cached: ingest converts millions of times). */
function hourRule(tz: string, localSeconds: number): HourRule {
  const hour = Math.floor(localSeconds / HOUR)
  let rules = hourRules.get(tz)
  if (!rules) {
    rules = new Map()
    hourRules.set(tz, rules)
  }
  let rule = rules.get(hour)
  if (!rule) {
    rule = computeHourRule(tz, hour * HOUR)
    rules.set(hour, rule)
  }
  return rule
}

function computeHourRule(tz: string, hourStart: number): HourRule {
  const from = hourStart - DAY
  const to = hourStart + HOUR + DAY
  const before = zoneOffsetSeconds(tz, from)
  const after = zoneOffsetSeconds(tz, to)
  if (before === after) return { before, after, at: Infinity }
  const at = firstChange(tz, from, to, before)
  return { before, after: zoneOffsetSeconds(tz, at), at }
}

/** The first UTC second in (from, to] whose offset is not `before` (offset(from) is, offset(to) is not). */
function firstChange(tz: string, from: number, to: number, before: number): number {
  let lo = from
  let hi = to
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    if (zoneOffsetSeconds(tz, mid) === before) lo = mid
    else hi = mid
  }
  return hi
}

/**
 * The UTC instants (seconds) a local wall-clock time stands for:
 * - `unique`: one;
 * - `repeated`: two, when clocks go back (fall-back) and the time is in
 *   the hour (half hour at Lord Howe) that occurs twice; `earlier` is the
 *   first occurrence, `change` the UTC second the clocks went back (the
 *   second occurrence begins);
 * - `gap`: none, when clocks go forward (spring-forward) over the time. It
 *   is read with the offset in force before the gap, as the clock would
 *   have shown it had it not been changed: Berlin 02:30 on the spring-forward
 *   day is 01:30Z (03:30 summer time). A host prints no such time; a log
 *   read with the wrong `--tz` does.
 */
export type LocalInstants =
  | { readonly kind: 'unique'; readonly utc: number }
  | { readonly kind: 'repeated'; readonly earlier: number; readonly later: number; readonly change: number }
  | { readonly kind: 'gap'; readonly utc: number }

/** {@link LocalInstants} of `localSeconds` (seconds since the epoch of a local time read as UTC) in `tz`. */
export function localInstants(tz: string, localSeconds: number): LocalInstants {
  const fixed = fixedOffset(tz)
  if (fixed !== undefined) return { kind: 'unique', utc: localSeconds - fixed }
  const rule = hourRule(tz, localSeconds)
  const early = localSeconds - rule.before
  const late = localSeconds - rule.after
  const earlyValid = early < rule.at
  const lateValid = late >= rule.at
  if (earlyValid && lateValid) return { kind: 'repeated', earlier: early, later: late, change: rule.at }
  if (earlyValid) return { kind: 'unique', utc: early }
  if (lateValid) return { kind: 'unique', utc: late }
  return { kind: 'gap', utc: early }
}

/**
 * UTC seconds of a local wall-clock time (seconds since the epoch as if
 * UTC). A repeated time gives its first occurrence, a time in a gap is read
 * with the offset before the gap; {@link SourceClock} orders repeated times
 * by the log instead.
 */
export function localToUtcSeconds(tz: string, localSeconds: number): number {
  const r = localInstants(tz, localSeconds)
  return r.kind === 'repeated' ? r.earlier : r.utc
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
  #lastUtc: number | null
  #relative: RelativeBounds | null
  #toolStart: ((withWall: boolean) => ToolStart | undefined) | undefined

  /**
   * `toolStart` is asked once, at the first relative time, when the tool
   * started; the answer is kept in the state. `withWall`: the relative times
   * come with wall-clock seconds (execsnoop -T -t), which place them better
   * than a file's creation time would.
   */
  constructor(state: ClockState, toolStart?: (withWall: boolean) => ToolStart | undefined) {
    this.#anchor = state.anchor
    this.#toolStart = toolStart
    this.#dayOffset = state.dayOffset
    this.#last = state.lastSecondsOfDay
    this.#lastUtc = state.lastUtc ?? null
    this.#relative = state.relative ?? null
  }

  get state(): ClockState {
    return {
      anchor: this.#anchor,
      dayOffset: this.#dayOffset,
      lastSecondsOfDay: this.#last,
      lastUtc: this.#lastUtc,
      ...(this.#relative ? { relative: this.#relative } : {}),
    }
  }

  /** The anchor pinned by wall-clock/relative pairs so far (execsnoop -T -t), or null. */
  get relativeAnchor(): RelativeAnchor | null {
    return this.#relative ? relativeAnchor(this.#relative) : null
  }

  /** The tool's start as the capture says it (asked once). */
  #askToolStart(withWall: boolean): void {
    if (this.#anchor.startMs !== undefined || !this.#toolStart) return
    const start = this.#toolStart(withWall)
    this.#toolStart = undefined
    if (start !== undefined) {
      this.#anchor = {
        ...this.#anchor,
        startMs: start.ms,
        ...(start.lowMs !== undefined ? { startLowMs: start.lowMs } : {}),
        startFrom: start.from,
      }
    }
  }

  /**
   * A relative time printed beside a wall-clock second: the pair narrows the
   * anchor's bounds, and the time is placed from the anchor so far (the
   * writer places the rows already written again when the anchor moves).
   */
  #withWall(time: RecordTime & { kind: 'relative' }, wall: NonNullable<(RecordTime & { kind: 'relative' })['wall']>): Normalized {
    this.#askToolStart(true)
    const w = this.normalize({ kind: 'clock', ...wall })
    const rel = Number.isFinite(time.seconds) ? Math.round(time.seconds * 1e6) : NaN
    if (w.ts === null || Number.isNaN(rel)) return { ts: null, precision: 'relative' }
    const second = Number(w.ts / 1000n)
    const lo = second - rel - LINE_SLACK
    const hi = second + 1_000_000 - rel + LINE_SLACK
    const prev = this.#relative
    if (prev) {
      this.#relative = { ...prev, linesLo: Math.max(prev.linesLo, lo), linesHi: Math.min(prev.linesHi, hi), lines: prev.lines + 1 }
    } else {
      const a = this.#anchor
      const header = a.startFrom === 'capture.json' ? a.startMs : undefined
      this.#relative = {
        linesLo: lo,
        linesHi: hi,
        lines: 1,
        // the tool started after it was spawned (started_utc; else assume
        // within a second) and before its header was seen (header_utc)
        captureLo: header === undefined ? null : (a.startLowMs ?? header - 1_000) * 1000 - LINE_SLACK,
        captureHi: header === undefined ? null : header * 1000 + LINE_SLACK,
      }
    }
    const anchor = relativeAnchor(this.#relative)
    return { ts: (BigInt(anchor.point) + BigInt(rel)) * 1000n, precision: anchoredPrecision(anchor.width) }
  }

  normalize(time: RecordTime | undefined): Normalized {
    if (!time) return { ts: null, precision: null }
    if (time.kind === 'relative') {
      if (time.wall) return this.#withWall(time, time.wall)
      this.#askToolStart(false)
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
      return this.#toTs(time, secondsOfDay, this.#dayOffset - 1, false)
    }
    this.#last = secondsOfDay
    return this.#toTs(time, secondsOfDay, this.#dayOffset, true)
  }

  /** `latest`: this is the log's latest time so far (not a late line). */
  #toTs(time: RecordTime & { kind: 'clock' }, secondsOfDay: number, dayOffset: number, latest: boolean): Normalized {
    const localSeconds = (dateToDays(this.#anchor.date) + dayOffset) * DAY + secondsOfDay
    const instants: LocalInstants = time.utc ? { kind: 'unique', utc: localSeconds } : localInstants(this.#anchor.tz, localSeconds)
    const utcSeconds = instants.kind === 'repeated' ? this.#occurrence(instants) : instants.utc
    if (latest) this.#lastUtc = utcSeconds
    const ms = time.millis ?? 0
    const ts = BigInt(utcSeconds) * 1_000_000_000n + BigInt(ms) * 1_000_000n
    const precision = time.millis === undefined ? 's' : 'ms'
    return instants.kind === 'unique' ? { ts, precision } : { ts, precision, local: instants.kind }
  }

  /**
   * Which occurrence of a repeated local time the log means. Logs run
   * forward: once the second occurrence has begun the log stays in it; before
   * that, a time earlier than the last one (by more than a late line's
   * slack) means the clocks went back. With no time seen yet: the first.
   */
  #occurrence(instants: { readonly earlier: number; readonly later: number; readonly change: number }): number {
    const last = this.#lastUtc
    if (last === null) return instants.earlier
    if (last >= instants.change) return instants.later
    return instants.earlier >= last - LATE_SLACK ? instants.earlier : instants.later
  }
}
