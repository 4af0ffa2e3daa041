import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import type { LogFormat } from '../../src/formats/types.js'
import { parseText } from '../../src/ingest/source-parser.js'

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures')

export interface FixtureExpectations {
  /**
   * Fixture files (by file name) allowed to contain bad lines, with how many.
   * Every other fixture must have none.
   */
  readonly bad?: Readonly<Record<string, number>>
  /** Fixture files that contain no header at all (a tool that failed to start). */
  readonly noHeader?: readonly string[]
}

/**
 * Whether this run may write goldens: only under `vitest -u` (the config sets
 * `update: 'none'`, so a plain run never writes one, CI or not).
 */
function updatingGoldens(): boolean {
  return expect.getState().snapshotState.snapshotUpdateState !== 'none'
}

/**
 * Table-driven fixture test for one format: every `test/fixtures/<tool>/*.log`
 * is parsed and compared with its golden `<case>.rows.json` (rewrite with
 * `npx vitest run <test file> -u` and review the diff: `-u` goes last, or it
 * takes the file name as its value); every sample line of the format must
 * parse. A missing golden fails; so does a golden whose log is gone.
 */
export function testFormatFixtures(
  format: LogFormat,
  expectations: FixtureExpectations = {},
  dir = format.name,
): void {
  const folder = join(FIXTURES, dir)
  const files = readdirSync(folder).filter((f) => f.endsWith('.log')).sort()

  describe(`${format.name} fixtures`, () => {
    test('has fixtures', () => {
      expect(files.length).toBeGreaterThan(0)
    })
    test('every golden has its log', () => {
      const goldens = readdirSync(folder).filter((f) => f.endsWith('.rows.json'))
      const orphans = goldens.filter((g) => !files.includes(g.replace(/\.rows\.json$/, '.log')))
      expect(orphans, `goldens in ${folder} without a .log`).toEqual([])
    })
    test.each(files)('%s', async (file) => {
      const text = readFileSync(join(folder, file), 'latin1')
      const parsed = parseText(Buffer.from(text, 'latin1').toString('utf8'), [format])
      const noHeader = expectations.noHeader?.includes(file) ?? false
      if (noHeader) {
        expect(parsed.layout).toBeNull()
      } else {
        expect(parsed.format).toBe(format.name)
      }
      const bad = parsed.lines.filter((l) => l.kind === 'bad')
      if (!noHeader) expect(bad.length, JSON.stringify(bad)).toBe(expectations.bad?.[file] ?? 0)
      for (const b of bad) expect(b.detail).toBeTruthy()
      const golden = join(folder, file.replace(/\.log$/, '.rows.json'))
      if (!existsSync(golden) && !updatingGoldens()) {
        expect.fail(`golden ${golden} is missing: write it with \`npx vitest run <test file> -u\`, then review and commit it`)
      }
      await expect(JSON.stringify(parsed, null, 2) + '\n').toMatchFileSnapshot(golden)
    })
  })

  describe(`${format.name} samples`, () => {
    test.each(format.samples.map((s, i) => [i, s] as const))('sample %i', (_i, sample) => {
      const parsed = parseText([sample.header, ...sample.lines].join('\n') + '\n', [format])
      expect(parsed.format).toBe(format.name)
      expect(parsed.lines.map((l) => l.kind)).toEqual(['header', ...sample.lines.map(() => 'record')])
    })
  })
}
