/**
 * Where the time of `tracedb ingest DIR` goes, phase by phase (the
 * breakdown in bench/README.md):
 *
 *   node dist/bench/phases.js DIR [--work DIR]
 *
 * 1. read: every line of every log, as ingest reads them;
 * 2. read + parse: every line classified by its format, record times
 *    normalized (parse = this minus read);
 * 3. ingest without derivation into a database whose secondary indexes were
 *    dropped (measurement only): the difference to 4 is their upkeep;
 * 4. ingest without derivation (every line in log_line, every record in its
 *    table, offsets committed): store = this minus 2 minus the indexes;
 * 5. each derivation on that database: processes, TCP connections, links of
 *    the other tools' events; then both again with nothing new.
 * Times are wall clock and CPU (user + system) of this process.
 */
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deriveNew, rederive } from '../derive/index.js'
import { FORMATS } from '../formats/index.js'
import { SourceClock } from '../ingest/clock.js'
import { listInputFiles } from '../ingest/files.js'
import { ingest } from '../ingest/ingest.js'
import { readLineChunks } from '../ingest/lines.js'
import { SourceParser } from '../ingest/source-parser.js'
import { openStore, type Store } from '../store/open.js'

const args = process.argv.slice(2)
const dir = args[0]
if (!dir) throw new Error('usage: node dist/bench/phases.js DIR [--work DIR]')
const workIndex = args.indexOf('--work')
const work = workIndex === -1 ? tmpdir() : (args[workIndex + 1] ?? tmpdir())
const files = listInputFiles([dir]).map((f) => f.path)
const options = { paths: [dir], date: '2026-11-28', tz: 'UTC', derive: false }

const rows: [string, number, number][] = []
async function time(name: string, f: () => unknown): Promise<void> {
  const w0 = performance.now()
  const c0 = process.cpuUsage()
  await f()
  const c = process.cpuUsage(c0)
  rows.push([name, performance.now() - w0, (c.user + c.system) / 1000])
}
function fresh(name: string): Store {
  const db = join(work, name)
  for (const s of ['', '-wal', '-shm']) rmSync(db + s, { force: true })
  return openStore(db)
}

await time('read', async () => {
  for (const f of files) for await (const lines of readLineChunks(f, { includePartial: true })) void lines
})
await time('read + parse', async () => {
  for (const f of files) {
    const parser = new SourceParser(FORMATS)
    const clock = new SourceClock({ anchor: { date: options.date, tz: options.tz }, dayOffset: null, lastSecondsOfDay: null })
    for await (const lines of readLineChunks(f, { includePartial: true })) {
      for (const l of lines) {
        const r = parser.push(l.text.endsWith('\r') ? l.text.slice(0, -1) : l.text, l.partial).result
        if (r.kind === 'record') clock.normalize(r.time)
      }
    }
  }
})
{
  const store = fresh('tracedb-phases-noindex.db')
  const indexes = store.sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").pluck().all() as string[]
  for (const name of indexes) store.sqlite.exec(`DROP INDEX "${name}"`)
  await time('ingest, secondary indexes dropped', () => ingest(store, options))
  store.close()
}
const store = fresh('tracedb-phases.db')
let captureId = 0
await time('ingest (no derivation)', async () => {
  captureId = (await ingest(store, options)).captureId
})
await time('derive (one pass from scratch)', () => rederive(store.sqlite, captureId))
await time('again, nothing new', () => deriveNew(store.sqlite, captureId))
store.close()

const get = (name: string): number => rows.find((r) => r[0] === name)?.[1] ?? 0
const read = get('read')
const parse = get('read + parse') - read
const indexes = get('ingest (no derivation)') - get('ingest, secondary indexes dropped')
const storeRows = get('ingest (no derivation)') - get('read + parse') - indexes
const derived = [get('derive (one pass from scratch)')]
const total = get('ingest (no derivation)') + derived.reduce((a, b) => a + b, 0)
const out = [`${dir}: ${String(files.length)} files`]
for (const [name, wall, cpu] of rows) out.push(`  ${name.padEnd(38)} ${Math.round(wall).toString().padStart(7)} ms wall ${Math.round(cpu).toString().padStart(7)} ms cpu`)
out.push(`breakdown of ${(total / 1000).toFixed(1)} s (wall):`)
const parts: [string, number][] = [
  ['read', read],
  ['parse (classify + times)', parse],
  ['store rows (log_line + events, commits)', storeRows],
  ['secondary indexes', indexes],
  ['derive (processes, tcp, links)', derived[0] ?? 0],
]
for (const [name, ms] of parts) out.push(`  ${name.padEnd(38)} ${(ms / 1000).toFixed(2).padStart(7)} s ${((100 * ms) / total).toFixed(1).padStart(5)}%`)
out.push(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (this process: both ingests and all derivations)`)
process.stdout.write(out.join('\n') + '\n')
