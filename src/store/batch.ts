import type BetterSqlite3 from 'better-sqlite3'

/**
 * Rows per multi-row statement on the hot paths (ingest's inserts,
 * derivation's inserts and updates). One statement run per 32 rows instead
 * of per row saves the per-run cost of better-sqlite3 and SQLite (binding,
 * reset, VDBE start): measured ~40% less time per line for ingest's inserts
 * and ~35% per row for `UPDATE ... FROM (VALUES ...)`; 16 to 128 rows
 * measured the same.
 */
export const ROWS_PER_STATEMENT = 32

/** `(?, ?), (?, ?)`: the VALUES of `rows` rows of `width` values. */
export function valuesSql(width: number, rows: number): string {
  const row = `(${Array.from({ length: width }, () => '?').join(', ')})`
  return Array.from({ length: rows }, () => row).join(', ')
}

/**
 * Rows waiting for one statement: run {@link ROWS_PER_STATEMENT} rows at a
 * time by its multi-row form, the rest one by one at {@link flush}. Rows
 * must be flushed before anything reads what they write (and before the
 * transaction commits).
 */
export class RowBatch {
  readonly #one: BetterSqlite3.Statement
  readonly #many: BetterSqlite3.Statement
  readonly #width: number
  /** the values of the pending rows, row after row: push one row's, then call {@link added} */
  readonly values: unknown[] = []
  #rows = 0

  /** `one` takes one row's values, `many` {@link ROWS_PER_STATEMENT} rows' values. */
  constructor(one: BetterSqlite3.Statement, many: BetterSqlite3.Statement, width: number) {
    this.#one = one
    this.#many = many
    this.#width = width
  }

  /** A batch of the statement that `sql(rows)` writes for `rows` rows. */
  static of(sqlite: BetterSqlite3.Database, sql: (rows: number) => string, width: number): RowBatch {
    return new RowBatch(sqlite.prepare(sql(1)), sqlite.prepare(sql(ROWS_PER_STATEMENT)), width)
  }

  /** Call after pushing one row's values. */
  added(): void {
    if (++this.#rows < ROWS_PER_STATEMENT) return
    this.#many.run(this.values)
    this.values.length = 0
    this.#rows = 0
  }

  /** Runs the pending rows. */
  flush(): void {
    for (let i = 0; i < this.#rows; i++) this.#one.run(this.values.slice(i * this.#width, (i + 1) * this.#width))
    this.values.length = 0
    this.#rows = 0
  }

  /** Forgets the pending rows (after a rolled-back transaction). */
  clear(): void {
    this.values.length = 0
    this.#rows = 0
  }
}
