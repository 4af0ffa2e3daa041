import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { FORMATS } from '../../src/formats/index.js'
import runqslower from '../../src/formats/runqslower.js'
import { ingest } from '../../src/ingest/ingest.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { openStore } from '../../src/store/open.js'
import { testFormatFixtures } from '../helpers/format-fixtures.js'
import { EXECSNOOP_T_U_X_HEADER, execLine } from '../helpers/logs.js'

testFormatFixtures(runqslower)

const parse = (header: string, line: string) => parseText(`${header}\n${line}\n`, [runqslower])
const HEADER = 'TIME     COMM             TID           LAT(us)'
const HEADER_P = 'TIME     COMM             TID           LAT(us) PREV COMM        PREV TID'
const HEADER_OLD = 'TIME     COMM             PID           LAT(us)'

/** libbpf `%-8s %-16s %-6d %14llu` [` %-16s %-6d`] */
const row = (time: string, comm: string, tid: number, lat: number, prev?: [string, number]) =>
  `${time} ${comm.padEnd(16)} ${String(tid).padEnd(6)} ${String(lat).padStart(14)}` +
  (prev ? ` ${prev[0].padEnd(16)} ${String(prev[1]).padEnd(6)}` : '')

describe('runqslower detect', () => {
  test.each([
    ['Tracing run queue latency higher than 10000 us', 'banner'],
    [HEADER, { variant: 'libbpf', flags: [], previous: false }],
    [HEADER_P, { variant: 'libbpf', flags: ['-P'], previous: true }],
    [HEADER_OLD, { variant: 'python-old', flags: [], previous: false }],
    ['TIME     COMM             TID           LAT(us) PREV COMM', undefined],
    ['TIME     COMM             TID           LAT(ms) PAGES', undefined],
    ['15:11:18 kcompactd0       36              56007', undefined],
  ])('%s', (line, expected) => {
    expect(runqslower.detect(line)).toEqual(expected)
  })

  test('among all formats, the banner and headers select runqslower', () => {
    for (const header of [HEADER, HEADER_P, HEADER_OLD]) {
      const p = parseText(`Tracing run queue latency higher than 1000 us\n${header}\n`, FORMATS)
      expect(p.format).toBe('runqslower')
      expect(p.lines.map((l) => l.kind)).toEqual(['message', 'header'])
    }
  })
})

describe('runqslower rows', () => {
  test.each([
    [
      'a COMM with a space, time as a local wall clock',
      HEADER,
      row('15:11:18', 'Web Content', 29371, 1885),
      { comm: 'Web Content', pid: null, tid: 29371, lat_us: 1885, prev_comm: null, prev_tid: null },
    ],
    [
      '-P: the idle task as the previous task',
      HEADER_P,
      row('15:11:18', 'sh', 29371, 1885, ['swapper/1', 0]),
      { comm: 'sh', tid: 29371, lat_us: 1885, prev_comm: 'swapper/1', prev_tid: 0 },
    ],
    [
      '-P: previous COMM with a space',
      HEADER_P,
      row('15:11:18', 'sh', 29371, 1885, ['Web Content', 4242]),
      { prev_comm: 'Web Content', prev_tid: 4242 },
    ],
    [
      'a 7-digit TID and a 15-digit latency push the columns',
      HEADER_P,
      row('15:11:18', 'node', 4194303, 123456789012345, ['node', 4194302]),
      { tid: 4194303, lat_us: 123456789012345, prev_comm: 'node', prev_tid: 4194302 },
    ],
    [
      'COMM of multi-byte characters padded to 16 bytes (printf counts bytes)',
      HEADER,
      `15:11:18 ${'prøve ø'.padEnd(14)} 268              106`,
      { comm: 'prøve ø', tid: 268, lat_us: 106 },
    ],
    [
      'Python pads multi-byte COMM in characters: free COMM',
      HEADER_P,
      row('15:11:18', 'prøve ø', 268, 106, ['zäh', 12]),
      { comm: 'prøve ø', tid: 268, lat_us: 106, prev_comm: 'zäh', prev_tid: 12 },
    ],
    [
      'old Python: the column headed PID holds the thread id',
      HEADER_OLD,
      row('04:16:32', 'cc1', 12924, 12739),
      { comm: 'cc1', pid: null, tid: 12924, lat_us: 12739 },
    ],
  ])('%s', (_name, header, line, expected) => {
    const p = parse(header, line)
    expect(p.lines[1]?.kind, JSON.stringify(p.lines[1])).toBe('record')
    expect(p.records[0]?.values).toMatchObject(expected)
  })

  test('time is the local HH:MM:SS the row was printed at', () => {
    expect(parse(HEADER, row('15:11:18', 'sh', 1, 2000)).records[0]).toMatchObject({
      timeText: '15:11:18',
      time: { kind: 'clock', hour: 15, minute: 11, second: 18, utc: false },
    })
  })

  test.each([
    ['Lost 3 events on CPU #1!', HEADER, 'message'],
    ['', HEADER, 'message'],
    ['15:11:18 sh               29371            oops', HEADER, 'bad'],
    [row('15:11:18', 'sh', 29371, 1885), HEADER_P, 'bad'],
  ])('%j is a %s', (line, header, kind) => {
    const p = parse(header, line)
    expect(p.lines[1]?.kind).toBe(kind)
    if (kind === 'bad') expect(p.lines[1]?.detail).toMatch(/^not a runqslower row: expected TIME/)
  })
})

describe('runqslower linking', () => {
  test('pid is NULL; a row whose TID is an exec\'d PID links to that process, another thread does not', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tracedb-runq-')), 'cap')
    mkdirSync(dir)
    writeFileSync(
      join(dir, 'execsnoop.log'),
      [EXECSNOOP_T_U_X_HEADER, execLine('10:00:01', 4321, 1, 'busy', '/usr/bin/busy')].join('\n') + '\n',
    )
    writeFileSync(
      join(dir, 'runqslower.log'),
      [
        'Tracing run queue latency higher than 1000 us',
        HEADER_P,
        row('10:00:02', 'busy', 4321, 15000, ['node', 77]),
        row('10:00:02', 'worker', 4399, 12000, ['busy', 4321]),
      ].join('\n') + '\n',
    )
    const store = openStore(':memory:')
    try {
      await ingest(store, { paths: [dir], date: '2026-11-28', tz: 'UTC' })
      const rows = store.sqlite
        .prepare(
          'SELECT r.pid, r.tid, r.prev_tid, p.pid AS process_pid, p.comm AS process_comm FROM runqslower_event r LEFT JOIN process p ON p.id = r.process_id ORDER BY r.line_id',
        )
        .all()
      expect(rows).toEqual([
        { pid: null, tid: 4321, prev_tid: 77, process_pid: 4321, process_comm: 'busy' },
        { pid: null, tid: 4399, prev_tid: 4321, process_pid: null, process_comm: null },
      ])
    } finally {
      store.close()
    }
  })
})
