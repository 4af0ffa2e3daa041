import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import {
  checkDate,
  checkTimeZone,
  type ClockState,
  localInstants,
  localToUtcSeconds,
  SourceClock,
  zoneOffsetSeconds,
} from '../../src/ingest/clock.js'

const clock = (h: number, m: number, s: number, millis?: number, utc = false) =>
  ({ kind: 'clock', hour: h, minute: m, second: s, utc, ...(millis === undefined ? {} : { millis }) }) as const

const iso = (ts: bigint | null) => (ts === null ? null : new Date(Number(ts / 1_000_000n)).toISOString())

describe('SourceClock', () => {
  test('anchors HH:MM:SS to the given date and zone', () => {
    const c = new SourceClock({ anchor: { date: '2026-11-28', tz: 'Europe/Berlin' }, dayOffset: null, lastSecondsOfDay: null })
    const n = c.normalize(clock(10, 0, 5))
    expect(iso(n.ts)).toBe('2026-11-28T09:00:05.000Z')
    expect(n.precision).toBe('s')
  })

  test('milliseconds and UTC clocks', () => {
    const c = new SourceClock({ anchor: { date: '2026-07-01', tz: 'America/New_York' }, dayOffset: null, lastSecondsOfDay: null })
    expect(iso(c.normalize(clock(12, 0, 0, 250, true)).ts)).toBe('2026-07-01T12:00:00.250Z')
    expect(c.normalize(clock(12, 0, 1, 250, true)).precision).toBe('ms')
  })

  test('rolls over midnight', () => {
    const c = new SourceClock({ anchor: { date: '2026-11-28', tz: 'UTC' }, dayOffset: null, lastSecondsOfDay: null })
    expect(iso(c.normalize(clock(23, 59, 59)).ts)).toBe('2026-11-28T23:59:59.000Z')
    expect(iso(c.normalize(clock(0, 0, 1)).ts)).toBe('2026-11-29T00:00:01.000Z')
    // a late line from before midnight stays on the earlier day
    expect(iso(c.normalize(clock(23, 59, 59)).ts)).toBe('2026-11-28T23:59:59.000Z')
    expect(iso(c.normalize(clock(0, 0, 2)).ts)).toBe('2026-11-29T00:00:02.000Z')
  })

  test('a date taken from the file end time moves back a day when the first line is later in the day', () => {
    const c = new SourceClock({
      anchor: { date: '2026-11-29', tz: 'UTC', endSecondsOfDay: 120 },
      dayOffset: null,
      lastSecondsOfDay: null,
    })
    expect(iso(c.normalize(clock(23, 59, 0)).ts)).toBe('2026-11-28T23:59:00.000Z')
    expect(iso(c.normalize(clock(0, 1, 0)).ts)).toBe('2026-11-29T00:01:00.000Z')
  })

  test('relative clocks are not anchored', () => {
    const c = new SourceClock({ anchor: { date: '2026-11-28', tz: 'UTC' }, dayOffset: null, lastSecondsOfDay: null })
    expect(c.normalize({ kind: 'relative', seconds: 1.5, since: 'tool_start', decimals: 3 })).toEqual({
      ts: null,
      precision: 'relative',
    })
  })
})

describe('zones', () => {
  test.each([
    ['UTC', 0],
    ['+02:00', 7200],
    ['-0530', -19800],
    ['Europe/Berlin', 3600],
  ])('offset of %s in winter', (tz, offset) => {
    expect(zoneOffsetSeconds(tz, Date.UTC(2026, 0, 15) / 1000)).toBe(offset)
  })
  test('DST: local 2026-07-01 12:00 in Berlin is 10:00 UTC', () => {
    expect(localToUtcSeconds('Europe/Berlin', Date.UTC(2026, 6, 1, 12) / 1000)).toBe(Date.UTC(2026, 6, 1, 10) / 1000)
  })
  test('bad zone and date are usage errors', () => {
    expect(() => checkTimeZone('Mars/Base')).toThrow(/unknown time zone "Mars\/Base"/)
    expect(() => checkDate('2026-13-01')).toThrow(/invalid date/)
    expect(checkDate('2026-02-28')).toBe('2026-02-28')
  })
})

/** Seconds since the epoch of a UTC ISO time, or of a local wall-clock time read as UTC. */
const secs = (isoNoZone: string) => Date.parse(`${isoNoZone}Z`) / 1000
const isoS = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z')

/**
 * Offset changes used below (checked with Intl, tzdata 2025c):
 * - Europe/Berlin: +01 -> +02 at 2026-03-29T01:00Z, back at 2026-10-25T01:00Z;
 * - America/New_York: -05 -> -04 at 2026-03-08T07:00Z, back at 2026-11-01T06:00Z;
 * - Australia/Adelaide: +10:30 -> +09:30 at 2026-04-04T16:30Z (local 03:00 -> 02:00
 *   on 5 April), +09:30 -> +10:30 at 2026-10-03T16:30Z (02:00 -> 03:00 on 4 October);
 * - Australia/Lord_Howe (30-minute DST): +11 -> +10:30 at 2026-04-04T15:00Z
 *   (02:00 -> 01:30), +10:30 -> +11 at 2026-10-03T15:30Z (02:00 -> 02:30).
 */
describe('offsets at an instant', () => {
  test.each([
    ['Australia/Adelaide', '2026-04-04T16:29:59', 37800],
    // the hour cache gave +10:30 here for 30 minutes
    ['Australia/Adelaide', '2026-04-04T16:31:00', 34200],
    ['Australia/Adelaide', '2026-10-03T16:29:59', 34200],
    ['Australia/Adelaide', '2026-10-03T16:31:00', 37800],
    ['Australia/Lord_Howe', '2026-04-04T14:59:59', 39600],
    ['Australia/Lord_Howe', '2026-04-04T15:00:00', 37800],
    ['Australia/Lord_Howe', '2026-10-03T15:29:59', 37800],
    ['Australia/Lord_Howe', '2026-10-03T15:45:00', 39600],
    ['Europe/Berlin', '2026-10-25T00:59:59', 7200],
    ['Europe/Berlin', '2026-10-25T01:00:00', 3600],
    ['America/New_York', '2026-03-08T07:00:00', -14400],
  ])('%s at %sZ', (tz, utc, offset) => {
    expect(zoneOffsetSeconds(tz, secs(utc))).toBe(offset)
  })
})

describe('local wall-clock time to UTC', () => {
  const at = (tz: string, local: string) => {
    const r = localInstants(tz, secs(local))
    return r.kind === 'repeated' ? { kind: r.kind, earlier: isoS(r.earlier), later: isoS(r.later), change: isoS(r.change) } : { kind: r.kind, utc: isoS(r.utc) }
  }

  test.each([
    // fall back: the repeated hour (half hour at Lord Howe), and its edges
    ['Europe/Berlin', '2026-10-25T01:59:59', { kind: 'unique', utc: '2026-10-24T23:59:59Z' }],
    ['Europe/Berlin', '2026-10-25T02:00:00', { kind: 'repeated', earlier: '2026-10-25T00:00:00Z', later: '2026-10-25T01:00:00Z', change: '2026-10-25T01:00:00Z' }],
    ['Europe/Berlin', '2026-10-25T02:59:59', { kind: 'repeated', earlier: '2026-10-25T00:59:59Z', later: '2026-10-25T01:59:59Z', change: '2026-10-25T01:00:00Z' }],
    ['Europe/Berlin', '2026-10-25T03:00:00', { kind: 'unique', utc: '2026-10-25T02:00:00Z' }],
    ['America/New_York', '2026-11-01T01:30:00', { kind: 'repeated', earlier: '2026-11-01T05:30:00Z', later: '2026-11-01T06:30:00Z', change: '2026-11-01T06:00:00Z' }],
    ['Australia/Adelaide', '2026-04-05T02:01:00', { kind: 'repeated', earlier: '2026-04-04T15:31:00Z', later: '2026-04-04T16:31:00Z', change: '2026-04-04T16:30:00Z' }],
    ['Australia/Adelaide', '2026-04-05T03:00:00', { kind: 'unique', utc: '2026-04-04T17:30:00Z' }],
    ['Australia/Lord_Howe', '2026-04-05T01:29:59', { kind: 'unique', utc: '2026-04-04T14:29:59Z' }],
    ['Australia/Lord_Howe', '2026-04-05T01:45:00', { kind: 'repeated', earlier: '2026-04-04T14:45:00Z', later: '2026-04-04T15:15:00Z', change: '2026-04-04T15:00:00Z' }],
    ['Australia/Lord_Howe', '2026-04-05T02:00:00', { kind: 'unique', utc: '2026-04-04T15:30:00Z' }],
    // spring forward: the skipped hour (half hour) is read with the offset before it
    ['Europe/Berlin', '2026-03-29T01:59:59', { kind: 'unique', utc: '2026-03-29T00:59:59Z' }],
    ['Europe/Berlin', '2026-03-29T02:30:00', { kind: 'gap', utc: '2026-03-29T01:30:00Z' }],
    ['Europe/Berlin', '2026-03-29T03:00:00', { kind: 'unique', utc: '2026-03-29T01:00:00Z' }],
    ['America/New_York', '2026-03-08T02:30:00', { kind: 'gap', utc: '2026-03-08T07:30:00Z' }],
    ['Australia/Adelaide', '2026-10-04T02:30:00', { kind: 'gap', utc: '2026-10-03T17:00:00Z' }],
    ['Australia/Adelaide', '2026-10-04T03:00:00', { kind: 'unique', utc: '2026-10-03T16:30:00Z' }],
    ['Australia/Lord_Howe', '2026-10-04T02:15:00', { kind: 'gap', utc: '2026-10-03T15:45:00Z' }],
    ['Australia/Lord_Howe', '2026-10-04T02:30:00', { kind: 'unique', utc: '2026-10-03T15:30:00Z' }],
    // fixed offsets never repeat or skip
    ['+05:30', '2026-10-25T02:30:00', { kind: 'unique', utc: '2026-10-24T21:00:00Z' }],
  ])('%s %s', (tz, local, expected) => {
    expect(at(tz, local)).toEqual(expected)
  })

  test('localToUtcSeconds: the first occurrence of a repeated time, the offset before a gap', () => {
    expect(isoS(localToUtcSeconds('Europe/Berlin', secs('2026-10-25T02:30:00')))).toBe('2026-10-25T00:30:00Z')
    expect(isoS(localToUtcSeconds('Europe/Berlin', secs('2026-03-29T02:30:00')))).toBe('2026-03-29T01:30:00Z')
  })

  /** The local wall-clock time of a UTC instant, read by Intl independently of the code under test. */
  function wallClock(tz: string, utc: number): number {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
        .formatToParts(new Date(utc * 1000))
        .map((p) => [p.type, Number(p.value)]),
    ) as Record<string, number>
    const n = (type: string) => parts[type] ?? NaN
    return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) / 1000
  }

  const ZONES = ['Europe/Berlin', 'America/New_York', 'Australia/Adelaide', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/St_Johns']
  // every instant within 3 h of a 2026 change, and any instant of 2025–2027
  const NEAR = ['2026-03-29T01:00', '2026-10-25T01:00', '2026-03-08T07:00', '2026-11-01T06:00', '2026-04-04T16:30', '2026-10-03T16:30', '2026-04-04T15:00', '2026-10-03T15:30'].map(
    (t) => secs(`${t}:00`),
  )
  const instant = fc.oneof(
    fc.tuple(fc.constantFrom(...NEAR), fc.integer({ min: -3 * 3600, max: 3 * 3600 })).map(([t, d]) => t + d),
    fc.integer({ min: secs('2025-01-01T00:00:00'), max: secs('2027-12-31T23:59:59') }),
  )

  test('round trip: every instant is among the instants of its own wall-clock time, and those read back to it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), instant, (tz, utc) => {
        const local = wallClock(tz, utc)
        const r = localInstants(tz, local)
        const all = r.kind === 'repeated' ? [r.earlier, r.later] : r.kind === 'unique' ? [r.utc] : []
        expect(all).toContain(utc)
        for (const u of all) expect(wallClock(tz, u)).toBe(local)
      }),
      { numRuns: 3000 },
    )
  })
})

describe('SourceClock across offset changes', () => {
  /** Feeds `times` (HH:MM:SS) to a fresh clock anchored at `date` in `tz`; the UTC instants and flags. */
  const run = (tz: string, date: string, times: string[], state?: Partial<ClockState>) => {
    const c = new SourceClock({ anchor: { date, tz }, dayOffset: null, lastSecondsOfDay: null, ...state })
    return times.map((t) => {
      const [h, m, s] = t.split(':').map(Number) as [number, number, number]
      const n = c.normalize(clock(h, m, s))
      return n.local ? `${iso(n.ts)!.replace('.000Z', 'Z')} ${n.local}` : iso(n.ts)!.replace('.000Z', 'Z')
    })
  }

  test.each([
    [
      'Berlin fall back: the repeated hour goes to the second occurrence once the clock went back',
      'Europe/Berlin',
      '2026-10-25',
      ['01:59:00', '02:10:00', '02:59:59', '02:00:00', '02:00:01', '02:30:00', '02:59:59', '03:00:00'],
      [
        '2026-10-24T23:59:00Z',
        '2026-10-25T00:10:00Z repeated',
        '2026-10-25T00:59:59Z repeated',
        '2026-10-25T01:00:00Z repeated',
        '2026-10-25T01:00:01Z repeated',
        '2026-10-25T01:30:00Z repeated',
        '2026-10-25T01:59:59Z repeated',
        '2026-10-25T02:00:00Z',
      ],
    ],
    [
      'New York fall back',
      'America/New_York',
      '2026-11-01',
      ['00:59:59', '01:00:00', '01:59:59', '01:00:00', '01:59:59', '02:00:00'],
      [
        '2026-11-01T04:59:59Z',
        '2026-11-01T05:00:00Z repeated',
        '2026-11-01T05:59:59Z repeated',
        '2026-11-01T06:00:00Z repeated',
        '2026-11-01T06:59:59Z repeated',
        '2026-11-01T07:00:00Z',
      ],
    ],
    [
      'Adelaide fall back (half-hour zone): 02:01 after the change is 16:31Z',
      'Australia/Adelaide',
      '2026-04-05',
      ['02:45:00', '02:59:59', '02:00:30', '02:01:00', '03:00:00'],
      ['2026-04-04T16:15:00Z repeated', '2026-04-04T16:29:59Z repeated', '2026-04-04T16:30:30Z repeated', '2026-04-04T16:31:00Z repeated', '2026-04-04T17:30:00Z'],
    ],
    [
      'Lord Howe fall back by 30 minutes',
      'Australia/Lord_Howe',
      '2026-04-05',
      ['01:29:59', '01:59:59', '01:30:00', '01:59:59', '02:00:00'],
      ['2026-04-04T14:29:59Z', '2026-04-04T14:59:59Z repeated', '2026-04-04T15:00:00Z repeated', '2026-04-04T15:29:59Z repeated', '2026-04-04T15:30:00Z'],
    ],
    [
      'Berlin spring forward; a time in the gap is read with the offset before it, flagged',
      'Europe/Berlin',
      '2026-03-29',
      ['01:59:59', '03:00:00', '03:00:01', '02:30:00'],
      ['2026-03-29T00:59:59Z', '2026-03-29T01:00:00Z', '2026-03-29T01:00:01Z', '2026-03-29T01:30:00Z gap'],
    ],
    [
      'New York spring forward',
      'America/New_York',
      '2026-03-08',
      ['01:59:59', '03:00:00'],
      ['2026-03-08T06:59:59Z', '2026-03-08T07:00:00Z'],
    ],
    [
      'Adelaide spring forward: 03:01 is 16:31Z',
      'Australia/Adelaide',
      '2026-10-04',
      ['01:59:59', '03:00:00', '03:01:00'],
      ['2026-10-03T16:29:59Z', '2026-10-03T16:30:00Z', '2026-10-03T16:31:00Z'],
    ],
    [
      'Lord Howe spring forward by 30 minutes',
      'Australia/Lord_Howe',
      '2026-10-04',
      ['01:59:59', '02:30:00', '02:31:00'],
      ['2026-10-03T15:29:59Z', '2026-10-03T15:30:00Z', '2026-10-03T15:31:00Z'],
    ],
    [
      'a slightly late line stays in the first occurrence; once the second has begun, the log stays there',
      'Europe/Berlin',
      '2026-10-25',
      ['02:30:05', '02:30:00', '02:59:59', '02:00:01', '02:59:58'],
      [
        '2026-10-25T00:30:05Z repeated',
        '2026-10-25T00:30:00Z repeated',
        '2026-10-25T00:59:59Z repeated',
        '2026-10-25T01:00:01Z repeated',
        '2026-10-25T01:59:58Z repeated',
      ],
    ],
  ])('%s', (_name, tz, date, times, expected) => {
    expect(run(tz, date, times)).toEqual(expected)
  })

  test('a resumed clock remembers which occurrence it is in', () => {
    const c = new SourceClock({ anchor: { date: '2026-10-25', tz: 'Europe/Berlin' }, dayOffset: null, lastSecondsOfDay: null })
    c.normalize(clock(2, 59, 59))
    c.normalize(clock(2, 0, 5))
    const state = JSON.parse(JSON.stringify(c.state)) as ClockState
    expect(run('Europe/Berlin', '2026-10-25', ['02:30:00'], state)).toEqual(['2026-10-25T01:30:00Z repeated'])
  })

  test('a state stored before lastUtc existed starts at the first occurrence', () => {
    expect(run('Europe/Berlin', '2026-10-25', ['02:30:00'], { dayOffset: 0, lastSecondsOfDay: 2 * 3600 + 59 * 60 })).toEqual([
      '2026-10-25T00:30:00Z repeated',
    ])
  })
})
