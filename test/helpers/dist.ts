import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = join(import.meta.dirname, '..', '..')

/** The built CLI the process-level tests spawn (`npm test` builds it first). */
export const CLI = join(ROOT, 'dist', 'cli', 'main.js')

function newestMtime(dir: string): number {
  let newest = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return newest
}

/**
 * Throws unless dist/ is built and not older than src/: a test that spawns the
 * CLI must fail, not skip, without a build, and must not pass against code
 * that is no longer the source.
 */
export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (\`npm test\` does)`)
  if (newestMtime(join(ROOT, 'src')) > statSync(CLI).mtimeMs) {
    throw new Error(`dist/ is older than src/: run \`npm run build\` first (\`npm test\` does)`)
  }
}
