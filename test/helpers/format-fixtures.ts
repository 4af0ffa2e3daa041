import { readdirSync, readFileSync } from 'node:fs'
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
 * Table-driven fixture test for one format: every `test/fixtures/<tool>/*.log`
 * is parsed and compared with its golden `<case>.rows.json` (rewrite with
 * `vitest -u`, review the diff); every sample line of the format must parse.
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
      await expect(JSON.stringify(parsed, null, 2) + '\n').toMatchFileSnapshot(
        join(folder, file.replace(/\.log$/, '.rows.json')),
      )
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
