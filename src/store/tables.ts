import type BetterSqlite3 from 'better-sqlite3'

/** The column names of `table` (empty when it does not exist). */
export function tableColumns(sqlite: BetterSqlite3.Database, table: string): Set<string> {
  return new Set((sqlite.prepare(`PRAGMA table_info("${table.replace(/"/g, '""')}")`).all() as { name: string }[]).map((c) => c.name))
}

/** Whether `table` exists. */
export function tableExists(sqlite: BetterSqlite3.Database, table: string): boolean {
  return sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined
}
