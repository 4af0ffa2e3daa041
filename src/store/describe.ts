import type { Store } from './open.js'
import { loadMigrations } from './migrate.js'
import { FORMATS } from '../formats/index.js'
import { EVENT_COLUMNS } from './schema.js'

/** A table or view and what its columns mean. */
export interface SchemaEntry {
  readonly name: string
  readonly type: 'table' | 'view'
  readonly description: string
  readonly columns: readonly { name: string; type: string; description: string }[]
}

const COMMON_EVENT_DOCS: Record<(typeof EVENT_COLUMNS)[number], string> = {
  line_id: 'the log_line this record was parsed from',
  capture_id: 'the capture (capture.id)',
  source_id: 'the file (source.id)',
  ts: 'time of the record, integer ns since the Unix epoch (UTC); NULL when not derivable',
  ts_precision:
    "how closely ts is known: s or ms (a printed wall-clock time; or execsnoop -T -t seconds counted from a start pinned that closely, also 10ms, 100ms), derived (seconds since the tool started, counted from capture.json's tool start), relative (a relative clock not anchored to wall time: ts NULL)",
  time_text: 'the time exactly as the tool printed it',
  process_id: 'the process instance (process.id) the record belongs to, when derived',
}

/**
 * Column meanings are read from the migrations: the `--` comment lines just
 * above a column (or a table) describe it. Per-tool tables take their
 * descriptions from the format modules.
 */
function migrationDocs(): Map<string, { table: string; columns: Map<string, string> }> {
  const docs = new Map<string, { table: string; columns: Map<string, string> }>()
  for (const m of loadMigrations()) {
    let pending: string[] = []
    let current: { table: string; columns: Map<string, string> } | undefined
    for (const raw of m.sql.split('\n')) {
      const line = raw.trim()
      if (line.startsWith('--')) {
        pending.push(line.replace(/^--\s?/, ''))
        continue
      }
      const alter = /^ALTER TABLE (\w+) ADD COLUMN (\w+)/i.exec(line)
      if (alter?.[1] && alter[2]) {
        // a column added later, with the comment above it
        if (pending.length > 0) docs.get(alter[1])?.columns.set(alter[2], pending.join(' '))
        pending = []
        continue
      }
      const create = /^CREATE (?:TABLE|VIEW) (\w+)/i.exec(line)
      if (create?.[1]) {
        current = { table: pending.join(' '), columns: new Map() }
        docs.set(create[1], current)
        pending = []
        continue
      }
      const col = /^(\w+)\s+(INTEGER|TEXT|REAL|BLOB)/i.exec(line)
      if (col?.[1] && current && pending.length > 0) current.columns.set(col[1], pending.join(' '))
      if (line === ');' || line.endsWith(';')) current = undefined
      pending = []
    }
  }
  return docs
}

/**
 * A table or view's entry with what its columns mean, from the migrations
 * and the format modules (the same words on every engine).
 */
export function columnDocs(
  name: string,
  type: 'table' | 'view',
  columns: readonly { name: string; type: string }[],
  docs: ReturnType<typeof migrationDocs> = cachedDocs(),
): SchemaEntry {
  const format = FORMATS.find((f) => `${f.name}_event` === name)
  const doc = docs.get(name)
  return {
    name,
    type,
    description: format ? `${format.title}. ${format.description}` : (doc?.table ?? ''),
    columns: columns.map((c) => ({
      name: c.name,
      type: c.type,
      description:
        (format
          ? (COMMON_EVENT_DOCS[c.name as (typeof EVENT_COLUMNS)[number]] ??
            (() => {
              const col = format.columns.find((fc) => fc.name === c.name)
              return col ? `${col.description}${col.unit ? ` (${col.unit})` : ''}` : ''
            })())
          : doc?.columns.get(c.name)) ?? '',
    })),
  }
}

let docsCache: ReturnType<typeof migrationDocs> | undefined
function cachedDocs(): ReturnType<typeof migrationDocs> {
  docsCache ??= migrationDocs()
  return docsCache
}

/** Tables and views of the database with column meanings (`tracedb schema`). */
export function describeSchema(store: Store): SchemaEntry[] {
  const objects = store.sqlite
    .prepare(
      "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY type, name",
    )
    .all() as { name: string; type: 'table' | 'view' }[]
  return objects.map(({ name, type }) => {
    const info = store.sqlite.prepare(`PRAGMA table_info("${name.replace(/"/g, '""')}")`).all() as {
      name: string
      type: string
    }[]
    return columnDocs(name, type, info)
  })
}
