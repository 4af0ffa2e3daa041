import BetterSqlite3 from 'better-sqlite3'
import { randomUUID } from 'node:crypto'
import { DatabaseError } from '../errors.js'

/**
 * One writer per database: `ingest`, `watch`, `rebuild`, `migrate` and
 * `sql --write` hold the writer lock while they write. A second writer
 * waits for it, up to `waitMs`, then fails naming the holder's PID.
 *
 * The lock is a SQLite file lock on `<db>.lock`, a tiny database of its
 * own, so it is atomic and the OS drops it when its process dies (kill -9
 * included): there is no stale lock to detect or take over. The holder
 * writes its PID and a token into the lock database, then keeps a read
 * transaction open on it; while that read (SHARED) lock is held nobody can
 * commit a write there, so the holder's row stays as it is and others can
 * still read it to say who is writing. Readers of the main database are
 * not affected.
 *
 * Nothing else in this process may open and close `<db>.lock` with plain
 * file calls: POSIX drops all of a process's locks on a file when any of
 * its descriptors on it is closed (SQLite itself works around that).
 */
export interface WriterLock {
  release(): void
}

export interface LockOptions {
  /** How long to wait for another writer, in ms (default 30 s). */
  readonly waitMs?: number
  /** Called once, when the lock is held by another process (its PID). */
  readonly onWait?: (holderPid: number) => void
}

/** How often a waiter tries again: not in lockstep with the other waiters. */
const retryMs = (): number => 50 + Math.floor(Math.random() * 100)

const HOLDER_TABLE =
  'CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, token TEXT NOT NULL, since TEXT NOT NULL)'

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
}

function openLockDb(lockPath: string): BetterSqlite3.Database {
  try {
    const lockDb = new BetterSqlite3(lockPath)
    // never block the event loop in SQLite's busy handler: the caller polls
    lockDb.pragma('busy_timeout = 0')
    return lockDb
  } catch (error) {
    throw new DatabaseError(`cannot create lock file "${lockPath}": ${(error as Error).message}`, {
      hint: 'check that the database directory exists and is writable',
    })
  }
}

/** A `<db>.lock` that is no SQLite database: an older tracedb's PID file, or junk. */
function notALock(error: unknown, lockPath: string, dbPath: string): DatabaseError | undefined {
  const code = (error as { code?: unknown }).code
  if (code !== 'SQLITE_NOTADB' && !(typeof code === 'string' && code.startsWith('SQLITE_CORRUPT'))) return undefined
  // deleting it here would race with other writers doing the same
  return new DatabaseError(`"${lockPath}" is not a tracedb lock: ${(error as Error).message}`, {
    hint: `an older tracedb wrote its PID there; if no tracedb is writing to "${dbPath}", delete "${lockPath}"`,
  })
}

/**
 * One try: claims the lock database with an exclusive transaction (fails
 * while anyone holds it), writes this holder's row, then reads it back under
 * a read transaction that it keeps. Between the commit and that read another
 * process may claim it too; whoever reads back its own token holds the lock.
 */
function tryClaim(lockDb: BetterSqlite3.Database, token: string): boolean {
  try {
    lockDb.exec('BEGIN EXCLUSIVE')
  } catch (error) {
    if (isBusy(error)) return false
    throw error
  }
  try {
    lockDb.exec(HOLDER_TABLE)
    lockDb
      .prepare('INSERT OR REPLACE INTO holder (id, pid, token, since) VALUES (1, ?, ?, ?)')
      .run(process.pid, token, new Date().toISOString())
    lockDb.exec('COMMIT')
  } catch (error) {
    if (lockDb.inTransaction) lockDb.exec('ROLLBACK')
    if (isBusy(error)) return false
    throw error
  }
  lockDb.exec('BEGIN')
  try {
    const current = lockDb.prepare('SELECT token FROM holder WHERE id = 1').pluck().get()
    if (current === token) return true // keep the read transaction: it is the lock
  } catch (error) {
    if (!isBusy(error)) {
      lockDb.exec('ROLLBACK')
      throw error
    }
  }
  lockDb.exec('ROLLBACK')
  return false
}

/** The PID the current holder wrote, when it can be read right now. */
function holderPid(lockDb: BetterSqlite3.Database): number | undefined {
  try {
    const pid = lockDb.prepare('SELECT pid FROM holder WHERE id = 1').pluck().get()
    return typeof pid === 'number' ? pid : undefined
  } catch {
    return undefined // being claimed right now, or not created yet
  }
}

export async function acquireWriterLock(dbPath: string, options: LockOptions = {}): Promise<WriterLock> {
  if (dbPath === ':memory:') return { release() {} }
  const lockPath = `${dbPath}.lock`
  const deadline = Date.now() + (options.waitMs ?? 30_000)
  const token = `${String(process.pid)}-${randomUUID()}`
  const lockDb = openLockDb(lockPath)
  let announced = false
  try {
    for (;;) {
      if (tryClaim(lockDb, token)) return heldLock(lockDb)
      const holder = holderPid(lockDb)
      if (Date.now() >= deadline) {
        const who = holder === undefined ? 'another tracedb' : `another tracedb (pid ${String(holder)})`
        throw new DatabaseError(`${who} is writing to "${dbPath}"`, {
          hint: 'wait for it to finish (a `tracedb watch` runs until Ctrl-C), or use another --db',
        })
      }
      if (!announced && holder !== undefined) {
        options.onWait?.(holder)
        announced = true
      }
      await new Promise((ok) => setTimeout(ok, Math.min(retryMs(), Math.max(0, deadline - Date.now()))))
    }
  } catch (error) {
    lockDb.close()
    throw notALock(error, lockPath, dbPath) ?? error
  }
}

/**
 * The connections of the locks this process holds: referenced here so that a
 * lock the caller forgot to keep is not closed (released) by the garbage
 * collector.
 */
const held = new Set<BetterSqlite3.Database>()

/** Releasing ends the read transaction; exiting (or dying) does the same. */
function heldLock(lockDb: BetterSqlite3.Database): WriterLock {
  held.add(lockDb)
  return {
    release() {
      if (!lockDb.open) return
      held.delete(lockDb)
      if (lockDb.inTransaction) lockDb.exec('ROLLBACK')
      lockDb.close()
    },
  }
}
