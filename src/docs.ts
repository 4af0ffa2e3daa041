/**
 * Regenerates the README sections that list the named queries and the
 * formats, so they never drift from the code (`npm run docs`; a test fails
 * when the README is stale).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { FORMATS } from './formats/index.js'
import { loadCatalog } from './queries/catalog.js'

export function queriesMarkdown(): string {
  const rows = [...loadCatalog().values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((q) => {
      const params = q.params.map((p) => ('default' in p ? `[${p.name.toUpperCase()}]` : p.name.toUpperCase())).join(' ')
      return `| \`${q.name}\` | ${params} | ${q.description.replace(/\|/g, '\\|')} |`
    })
  return ['| query | arguments | what it answers |', '|---|---|---|', ...rows].join('\n')
}

export function formatsMarkdown(): string {
  const rows = FORMATS.map((f) => `| \`${f.name}\` | \`${f.name}_event\` | ${f.description.replace(/\|/g, '\\|')} |`)
  return ['| tool | table | one row per |', '|---|---|---|', ...rows].join('\n')
}

/** The README text with both generated sections replaced. */
export function updateReadme(text: string): string {
  const put = (t: string, name: string, body: string): string =>
    t.replace(new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`), `$1\n${body}\n$2`)
  return put(put(text, 'queries', queriesMarkdown()), 'formats', formatsMarkdown())
}

const README = fileURLToPath(new URL('../README.md', import.meta.url))

if (process.argv[1] && /docs\.js$/.test(process.argv[1])) {
  const before = readFileSync(README, 'utf8')
  const after = updateReadme(before)
  if (after !== before) writeFileSync(README, after)
  process.stdout.write(after === before ? 'README.md is up to date\n' : 'README.md updated\n')
}
