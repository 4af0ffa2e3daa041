import { describe, expect, test } from 'vitest'
import { checkDate, checkTimeZone, localToUtcSeconds, SourceClock, zoneOffsetSeconds } from '../../src/ingest/clock.js'

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
