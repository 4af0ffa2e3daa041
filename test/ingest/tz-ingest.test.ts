import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { openStore } from '../../src/store/open.js'
import { runCli } from '../helpers/cli.js'
import { EXECSNOOP_T_U_X_HEADER, execLine } from '../helpers/logs.js'

/**
 * `tracedb ingest --date --tz` of an execsnoop -T log written across a
 * fall-back: the repeated local hour must come out twice, in order, an hour
 * apart, not folded onto its first occurrence.
 */
describe('ingest across a fall-back with --tz', () => {
  test.each([
    [
      'Europe/Berlin',
      '2026-10-25',
      ['01:59:59', '02:30:00', '02:59:59', '02:00:00', '02:30:00', '03:00:00'],
      ['2026-10-24T23:59:59Z', '2026-10-25T00:30:00Z', '2026-10-25T00:59:59Z', '2026-10-25T01:00:00Z', '2026-10-25T01:30:00Z', '2026-10-25T02:00:00Z'],
    ],
    [
      'Australia/Adelaide',
      '2026-04-05',
      ['02:30:00', '02:59:59', '02:00:00', '02:01:00', '03:00:00'],
      ['2026-04-04T16:00:00Z', '2026-04-04T16:29:59Z', '2026-04-04T16:30:00Z', '2026-04-04T16:31:00Z', '2026-04-04T17:30:00Z'],
    ],
    [
      'Australia/Lord_Howe',
      '2026-04-05',
      ['01:45:00', '01:59:59', '01:30:00', '01:45:00', '02:00:00'],
      ['2026-04-04T14:45:00Z', '2026-04-04T14:59:59Z', '2026-04-04T15:00:00Z', '2026-04-04T15:15:00Z', '2026-04-04T15:30:00Z'],
    ],
  ])('%s on %s', async (tz, date, times, utc) => {
    const dir = mkdtempSync(join(tmpdir(), 'tracedb-tz-'))
    mkdirSync(join(dir, 'logs'))
    const rows = times.map((t, i) => execLine(t, 3000 + i, 1, 'true', `/bin/true ${String(i)}`))
    writeFileSync(join(dir, 'logs', 'execsnoop.log'), [EXECSNOOP_T_U_X_HEADER, ...rows].join('\n') + '\n')
    const db = join(dir, 'test.db')
    const r = await runCli('ingest', join(dir, 'logs'), '--db', db, '--date', date, '--tz', tz)
    expect(r.code, r.stderr).toBe(0)
    const store = openStore(db)
    try {
      const got = store.sqlite
        .prepare("SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ts / 1000000000, 'unixepoch') FROM execsnoop_event ORDER BY pid")
        .pluck()
        .all()
      expect(got).toEqual(utc)
    } finally {
      store.close()
    }
  })
})
