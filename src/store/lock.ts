import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { DatabaseError } from '../errors.js'

/**
 * One writer per database: `ingest`, `watch` and `rebuild` hold
 * `<db>.lock` (with their PID) while they write. A second writer waits for
 * it, up to `waitMs`, then fails with a clear message; a lock left by a
 * process that no longer exists (kill -9) is taken over.
 */
export interface WriterLock {
  release(): void
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export async function acquireWriterLock(
  dbPath: string,
  options: { waitMs?: number; onWait?: (holderPid: number) => void } = {},
): Promise<WriterLock> {
  const waitMs = options.waitMs ?? 30_000
  if (dbPath === ':memory:') return { release() {} }
  const lockPath = `${dbPath}.lock`
  const deadline = Date.now() + waitMs
  let announced = false
  for (;;) {
    try {
      const fd = openSync(lockPath, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      let released = false
      const release = (): void => {
        if (released) return
        released = true
        rmSync(lockPath, { force: true })
      }
      process.once('exit', release)
      return { release }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new DatabaseError(`cannot create lock file "${lockPath}": ${(error as Error).message}`, {
          hint: 'check that the database directory is writable',
        })
      }
    }
    let holder = NaN
    try {
      holder = Number(readFileSync(lockPath, 'utf8').trim())
    } catch {
      continue // released meanwhile
    }
    if (!Number.isInteger(holder) || !alive(holder)) {
      rmSync(lockPath, { force: true }) // stale: its writer died
      continue
    }
    if (Date.now() > deadline) {
      throw new DatabaseError(`another tracedb (pid ${String(holder)}) is writing to "${dbPath}"`, {
        hint: 'wait for it to finish (a `tracedb watch` runs until Ctrl-C), or use another --db',
      })
    }
    if (!announced) {
      options.onWait?.(holder)
      announced = true
    }
    await new Promise((ok) => setTimeout(ok, 200))
  }
}
