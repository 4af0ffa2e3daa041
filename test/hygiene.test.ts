import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, test } from 'vitest'
import config from '../vitest.config.js'

const ROOT = join(import.meta.dirname, '..')

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]))
}

describe('test hygiene', () => {
  test('goldens are never written unasked: vitest runs with update "none" unless -u is given', () => {
    // vitest's default ("new" when CI is unset) silently writes a missing
    // golden and passes; "none" makes it fail on every machine.
    expect(config.test?.update).toBe('none')
  })

  test('shipped captures, fixtures and docs carry no checkout or home path of the machine they came from', () => {
    // The example captures were recorded from a checkout at /work/main; its
    // path is rewritten to /opt/demo. /root stays: it is root's home on any
    // machine, and the captures' story (root's pyenv start-up) lives there.
    const forbidden = ['/work/', '/home/', '/Users/']
    // and this checkout's own path, wherever it is (unless too short to be telling)
    if (ROOT.split('/').length > 2) forbidden.push(`${ROOT}/`)
    const shipped = [...files(join(ROOT, 'examples')), ...files(join(ROOT, 'test', 'fixtures')), ...files(join(ROOT, 'docs')), join(ROOT, 'README.md')]
    expect(shipped.length).toBeGreaterThan(100)
    const found: string[] = []
    for (const file of shipped) {
      const text = readFileSync(file, 'latin1')
      for (const path of forbidden) if (text.includes(path)) found.push(`${relative(ROOT, file)}: ${path}`)
    }
    expect(found).toEqual([])
  })
})
