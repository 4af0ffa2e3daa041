import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { rederive } from '../../src/derive/index.js'
import { generate } from '../../src/gen/generate.js'
import { ensureCapture, ingest, ingestFile, type FileContext } from '../../src/ingest/ingest.js'
import { FORMATS } from '../../src/formats/index.js'
import { openStore, type Store } from '../../src/store/open.js'
import { canonicalDump } from '../helpers/canonical.js'

/**
 * One derivation rule, two drivers: the same logs derived in one pass and
 * derived batch by batch — random chunk sizes (cut anywhere, mid-line
 * included), files in any order, the store closed and opened again between
 * batches (a watcher restarted) — give the same tables.
 */

const DATE = '2026-11-28'

/** The files of a generated capture (small pid_max: PIDs are reused), as bytes by name. */
async function capture(): Promise<{ root: string; files: Map<string, Buffer> }> {
  const root = mkdtempSync(join(tmpdir(), 'tracedb-incr-'))
  const source = join(root, 'source')
  await generate(source, { processes: 600, seed: 5, pidMax: 700, opensPerProcess: 1 })
  const files = new Map<string, Buffer>()
  for (const name of readdirSync(source)) if (name.endsWith('.log')) files.set(name, readFileSync(join(source, name)))
  return { root, files }
}

function context(store: Store): FileContext {
  const captureId = ensureCapture(store.sqlite, 'logs', DATE, 'UTC')
  return {
    store,
    captureId,
    formats: FORMATS,
    clockDate: DATE,
    clockTz: 'UTC',
    warnings: [],
    onProgress: undefined,
    derive: true,
  }
}

/** The reference: every file whole, no derivation while reading, then one pass from scratch. */
async function onePass(root: string, files: Map<string, Buffer>): Promise<Record<string, unknown>> {
  const dir = join(root, 'one', 'logs')
  mkdirSync(dir, { recursive: true })
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes)
  const store = openStore(join(root, 'one', 'db'))
  try {
    const report = await ingest(store, { paths: [dir], capture: 'logs', date: DATE, tz: 'UTC', derive: false })
    rederive(store.sqlite, report.captureId)
    return canonicalDump(store, dir)
  } finally {
    store.close()
  }
}

interface Plan {
  /** [file index, bytes to append] in order */
  readonly steps: readonly [number, number][]
  /** after which steps the store is closed and opened again */
  readonly restarts: readonly number[]
}

/** Feeds the files in the plan's chunks, deriving batch by batch. */
async function batched(root: string, files: Map<string, Buffer>, plan: Plan, run: number): Promise<Record<string, unknown>> {
  const dir = join(root, `run-${String(run)}`, 'logs')
  mkdirSync(dir, { recursive: true })
  const db = join(root, `run-${String(run)}`, 'db')
  const names = [...files.keys()]
  const written = new Map<string, number>(names.map((n) => [n, 0]))
  let store = openStore(db)
  let ctx = context(store)
  try {
    for (const [k, [file, size]] of plan.steps.entries()) {
      const name = names[file % names.length]!
      const bytes = files.get(name)!
      const from = written.get(name)!
      if (from >= bytes.length) continue
      const to = Math.min(bytes.length, from + size)
      appendFileSync(join(dir, name), bytes.subarray(from, to))
      written.set(name, to)
      await ingestFile(ctx, join(dir, name), { final: false })
      if (plan.restarts.includes(k)) {
        store.close()
        store = openStore(db)
        ctx = context(store)
      }
    }
    // the rest of every file, in the plan's last order, then the final read
    for (const name of names) {
      const bytes = files.get(name)!
      const from = written.get(name)!
      if (from < bytes.length) appendFileSync(join(dir, name), bytes.subarray(from))
      await ingestFile(ctx, join(dir, name), { final: false })
    }
    for (const name of names) await ingestFile(ctx, join(dir, name), { final: true })
    return canonicalDump(store, dir)
  } finally {
    store.close()
  }
}

describe('incremental derivation equals one pass', () => {
  test('random batches, file orders and restarts give the tables of one pass', async () => {
    const { root, files } = await capture()
    expect(files.size).toBeGreaterThanOrEqual(4)
    const reference = await onePass(root, files)
    expect((reference.processes as unknown[]).length).toBeGreaterThan(300)
    expect((reference.connections as unknown[]).length).toBeGreaterThan(0)
    let run = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(20), fc.integer({ min: 1, max: 9000 })), { minLength: 5, maxLength: 40 }),
        fc.array(fc.nat(40), { maxLength: 3 }),
        async (steps, restarts) => {
          const got = await batched(root, files, { steps, restarts }, run++)
          expect(got).toEqual(reference)
        },
      ),
      { numRuns: 12, seed: 20261201 },
    )
  }, 120_000)
})
