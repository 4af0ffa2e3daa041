/**
 * The ingest floor: the least a program on this stack must do to load the
 * same logs. Reads each file in chunks, splits lines, parses the columns with
 * one regular expression and inserts them into one plain table with one
 * prepared better-sqlite3 statement, in large transactions (WAL,
 * synchronous=NORMAL). No event store, no derived tables, no indexes.
 *
 * Usage: node dist/bench/floor.js DB FILE...
 */
import BetterSqlite3 from 'better-sqlite3'
import { createReadStream } from 'node:fs'

const [dbPath, ...files] = process.argv.slice(2)
if (!dbPath || files.length === 0) throw new Error('usage: floor.js DB FILE...')
const db = new BetterSqlite3(dbPath)
db.pragma('journal_mode = WAL')
db.pragma('synchronous = NORMAL')
db.exec('CREATE TABLE IF NOT EXISTS row (file TEXT, line_no INTEGER, c1 TEXT, c2 TEXT, c3 TEXT, c4 TEXT, c5 TEXT, c6 TEXT, c7 TEXT)')
const insert = db.prepare('INSERT INTO row VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
// One generic row pattern: time, then up to six whitespace-separated fields, then the rest.
const ROW = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$/
let lines = 0
for (const file of files) {
  let carry = ''
  let lineNo = 0
  let batch: unknown[][] = []
  const flush = db.transaction((rows: unknown[][]) => {
    for (const r of rows) insert.run(r)
  })
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const parts = (carry + (chunk as string)).split('\n')
    carry = parts.pop() ?? ''
    for (const line of parts) {
      lineNo++
      const m = ROW.exec(line)
      batch.push([file, lineNo, m?.[1] ?? line, m?.[2] ?? null, m?.[3] ?? null, m?.[4] ?? null, m?.[5] ?? null, m?.[6] ?? null, m?.[7] ?? null])
      if (batch.length >= 50_000) {
        flush(batch)
        batch = []
      }
    }
  }
  flush(batch)
  lines += lineNo
}
db.close()
process.stdout.write(`${String(lines)}\n`)
