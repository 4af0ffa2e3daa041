import fc from 'fast-check'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { FORMATS } from '../../src/formats/index.js'
import { ingest } from '../../src/ingest/ingest.js'
import { parseText } from '../../src/ingest/source-parser.js'
import { openStore } from '../../src/store/open.js'
import { FIXTURES } from '../helpers/format-fixtures.js'

/** Every fixture log of every format, as bytes. */
const corpus: Buffer[] = readdirSync(FIXTURES)
  .filter((d) => statSync(join(FIXTURES, d)).isDirectory() && d !== 'captures')
  .flatMap((d) =>
    readdirSync(join(FIXTURES, d))
      .filter((f) => f.endsWith('.log'))
      .map((f) => readFileSync(join(FIXTURES, d, f))),
  )

/** The header lines of the fixtures (every tool, every variant), with their newline. */
const headers: Buffer[] = [
  ...new Set(
    corpus
      .map((b) => b.subarray(0, b.indexOf(10) + 1).toString('latin1'))
      .filter((h) => /[A-Z]{3,}.*[A-Z]{3,}/.test(h) && !/^(libbpf|Tracing|Possibly|Attaching)/.test(h)),
  ),
].map((h) => Buffer.from(h, 'latin1'))

const INGEST_RUNS = Number(process.env.TRACEDB_FUZZ_RUNS ?? 100)

/** A mutated log: random bytes, truncations and splices of real fixtures. */
const mutated = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
  fc.tuple(fc.constantFrom(...corpus), fc.nat(), fc.nat()).map(([b, i, j]) => b.subarray(Math.min(i, j) % (b.length + 1), Math.max(i, j) % (b.length + 1))),
  fc.tuple(fc.constantFrom(...corpus), fc.constantFrom(...corpus), fc.nat(), fc.nat()).map(([a, b, i, j]) =>
    Buffer.concat([a.subarray(0, i % (a.length + 1)), b.subarray(j % (b.length + 1))]),
  ),
  fc.tuple(fc.constantFrom(...corpus), fc.uint8Array({ maxLength: 50 }), fc.nat()).map(([a, noise, i]) =>
    Buffer.concat([a.subarray(0, i % (a.length + 1)), Buffer.from(noise), a.subarray(i % (a.length + 1))]),
  ),
)

describe('fuzzing', () => {
  test('every parser classifies any input without throwing, and bad lines carry a reason', () => {
    fc.assert(
      fc.property(mutated, (bytes) => {
        const text = bytes.toString('utf8')
        for (const f of FORMATS) {
          const parsed = parseText(text, [f])
          const lines = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length
          expect(parsed.lines).toHaveLength(lines)
          for (const l of parsed.lines) if (l.kind === 'bad') expect(l.detail).toBeTruthy()
        }
        parseText(text, FORMATS)
      }),
      { numRuns: Number(process.env.TRACEDB_FUZZ_RUNS ?? 300) },
    )
  })

  test('ingest keeps every byte: stored lines add up to the file, whatever the input', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tracedb-fuzz-'))
    let n = 0
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...headers), mutated, async (header, bytes) => {
        const dir = join(root, `c${String(n++)}`)
        mkdirSync(dir)
        // make sure the file is recognised as a log: a real header of some tool first
        const content = Buffer.concat([header, bytes])
        writeFileSync(join(dir, 'execsnoop.log'), content)
        const store = openStore(join(dir, 'f.db'))
        try {
          const r = await ingest(store, { paths: [dir], date: '2026-11-28', tz: 'UTC' })
          expect(r.files[0]?.status).toBe('new')
          const stored = store.sqlite
            .prepare('SELECT raw, raw_bytes, partial FROM log_line ORDER BY line_no')
            .all() as { raw: string; raw_bytes: Buffer | null; partial: number }[]
          const bytesBack = Buffer.concat(
            stored.map((l) => Buffer.concat([l.raw_bytes ?? Buffer.from(l.raw, 'utf8'), Buffer.from(l.partial ? '' : '\n')])),
          )
          expect(bytesBack.equals(content)).toBe(true)
          const unexplained = store.sqlite.prepare("SELECT count(*) FROM log_line WHERE kind = 'bad' AND (detail IS NULL OR detail = '')").pluck().get()
          expect(unexplained).toBe(0)
        } finally {
          store.close()
        }
      }),
      { numRuns: INGEST_RUNS },
    )
  }, Math.max(60_000, INGEST_RUNS * 100))

  test('odd inputs: invalid UTF-8, NUL, CRLF, a 10 MB line, empty file, 1,000 files, symlink loop, unreadable file, a SQLite file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracedb-odd-'))
    const logs = join(dir, 'logs')
    mkdirSync(logs)
    const header = 'PCOMM            PID    PPID   RET ARGS\n'
    const row = 'true             2001   2000     0 /bin/true '
    writeFileSync(join(logs, 'a-utf8.log'), Buffer.concat([Buffer.from(header), Buffer.from([0x62, 0x61, 0xff, 0xfe, 0x0a]), Buffer.from(row + '\n')]))
    writeFileSync(join(logs, 'b-nul.log'), header + 'tr\0e             2002   2000     0 /bin/true \n')
    writeFileSync(join(logs, 'c-crlf.log'), header.replace('\n', '\r\n') + row + '\r\n')
    writeFileSync(join(logs, 'd-huge.log'), header + row + 'x'.repeat(10 * 1024 * 1024) + '\n' + row + '\n')
    writeFileSync(join(logs, 'e-empty.log'), '')
    for (let i = 0; i < 1000; i++) writeFileSync(join(logs, `many-${String(i).padStart(4, '0')}.log`), header + row + '\n')
    symlinkSync(join(logs, 'loop1'), join(logs, 'loop2'))
    symlinkSync(join(logs, 'loop2'), join(logs, 'loop1'))
    writeFileSync(join(logs, 'f-unreadable.log'), header + row + '\n')
    chmodSync(join(logs, 'f-unreadable.log'), 0o000)
    const sqliteFile = openStore(join(dir, 'other.db'))
    sqliteFile.close()
    writeFileSync(join(logs, 'g-database.log'), readFileSync(join(dir, 'other.db')))

    const store = openStore(join(dir, 'odd.db'))
    try {
      const r = await ingest(store, { paths: [logs], date: '2026-11-28', tz: 'UTC' })
      const by = Object.fromEntries(r.files.map((f) => [f.path.split('/').at(-1), f]))
      expect(by['a-utf8.log']).toMatchObject({ records: 1, bad: 1 })
      expect(store.sqlite.prepare("SELECT raw_bytes FROM log_line WHERE raw LIKE 'ba%'").pluck().get()).toEqual(Buffer.from([0x62, 0x61, 0xff, 0xfe]))
      expect(by['b-nul.log']).toMatchObject({ records: 1 })
      expect(by['c-crlf.log']).toMatchObject({ records: 1, bad: 0 })
      expect(by['d-huge.log']).toMatchObject({ lines: 3, records: 2 })
      expect(by['e-empty.log']).toMatchObject({ lines: 0 })
      expect(r.files.filter((f) => f.path.includes('many-') && f.records === 1)).toHaveLength(1000)
      expect(by['g-database.log']).toMatchObject({ status: 'skipped' })
      // root reads anything; as another user the unreadable file is reported, not fatal
      expect(by['f-unreadable.log']?.status === 'new' || by['f-unreadable.log']?.status === 'skipped').toBe(true)
    } finally {
      store.close()
    }
  })
})
