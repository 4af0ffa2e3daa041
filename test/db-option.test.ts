import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test, vi } from 'vitest'
import type { CaptureJson, RecordOptions } from '../src/record/record.js'
import { openStore } from '../src/store/open.js'
import { runCli } from './helpers/cli.js'
import { EXECSNOOP_T_U_X_HEADER, EXITSNOOP_T_HEADER, execLine, exitLine } from './helpers/logs.js'

// Recording needs root and the eBPF tools; here `record` writes what the
// tools would have, so the command around it is what is tested.
vi.mock('../src/record/record.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/record/record.js')>()
  return {
    ...real,
    record: vi.fn((options: RecordOptions): Promise<CaptureJson> => {
      mkdirSync(options.dir, { recursive: true })
      writeFileSync(
        join(options.dir, 'execsnoop.log'),
        [EXECSNOOP_T_U_X_HEADER, execLine('10:00:01', 2001, 2000, 'bash', '/bin/bash -l')].join('\n') + '\n',
      )
      writeFileSync(join(options.dir, 'exitsnoop.log'), [EXITSNOOP_T_HEADER, exitLine('10:00:02', 2001, 2000, 'bash', 1.0)].join('\n') + '\n')
      const meta: CaptureJson = {
        start_utc: '2026-11-28T10:00:00.000Z',
        end_utc: '2026-11-28T10:00:05.000Z',
        tz: 'UTC',
        tz_offset: '+00:00',
        hostname: 'test',
        kernel: 'test',
        pid_max: null,
        tools: {},
        failed: {},
      }
      writeFileSync(join(options.dir, 'capture.json'), JSON.stringify(meta))
      return Promise.resolve(meta)
    }),
  }
})

const savedDb = process.env.TRACEDB_DB
afterEach(() => {
  if (savedDb === undefined) delete process.env.TRACEDB_DB
  else process.env.TRACEDB_DB = savedDb
})

describe('--db on every command', () => {
  test('record DIR --db X without --watch ingests the finished capture into X', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-rec-db-'))
    const db = join(root, 'rec.db')
    const r = await runCli('record', join(root, 'logs'), '--duration', '1s', '--db', db)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(new RegExp(`ingested 4 new lines \\(2 records, 0 bad\\) into ${db}`))
    const store = openStore(db, { readonly: true })
    try {
      expect(store.sqlite.prepare('SELECT name FROM capture').pluck().all()).toEqual(['logs'])
      expect(store.sqlite.prepare('SELECT pid FROM process WHERE seen_exec = 1').pluck().all()).toEqual([2001])
    } finally {
      store.close()
    }
  })

  test('record DIR without --db (TRACEDB_DB set or not) records only, as before', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-rec-nodb-'))
    process.env.TRACEDB_DB = join(root, 'env.db')
    const r = await runCli('record', join(root, 'logs'), '--duration', '1s')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`next: tracedb ingest ${join(root, 'logs')}`)
    expect(existsSync(join(root, 'env.db'))).toBe(false)
  })

  test('formats accepts --db (it reads no database) and creates nothing', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-formats-db-'))
    const plain = await runCli('formats', '--json')
    const withDb = await runCli('formats', '--json', '--db', join(root, 'f.db'))
    expect(withDb.code, withDb.stderr).toBe(0)
    expect(withDb.stdout).toBe(plain.stdout)
    expect(existsSync(join(root, 'f.db'))).toBe(false)
  })
})
