import { readdirSync, statSync, type Stats } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { InputError } from '../errors.js'

/** A file to ingest and the capture directory it belongs to. */
export interface InputFile {
  readonly path: string
  readonly stats: Stats
}

/** Files in a capture directory that are never tool logs. */
const NOT_LOGS = /(^\.|\.(json|pid|md|db|db-wal|db-shm|sqlite|sh|py|gz|xz|zst)$)/

/** False for names in a capture directory that are never tool logs. */
export function isLogFileName(name: string): boolean {
  return !NOT_LOGS.test(name)
}

/**
 * Expands the paths given to `ingest`: a directory stands for the regular
 * files directly inside it (not recursive, skipping dotfiles, capture.json,
 * *.pid, *.md, scripts and databases); a file stands for itself.
 */
export function listInputFiles(paths: readonly string[]): InputFile[] {
  const out: InputFile[] = []
  for (const p of paths) {
    let st: Stats
    try {
      st = statSync(p)
    } catch (cause) {
      throw new InputError(`cannot read "${p}": ${(cause as NodeJS.ErrnoException).code ?? 'error'}`, {
        hint: 'give a directory of tool logs or log files that exist',
        cause,
      })
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        if (NOT_LOGS.test(name)) continue
        const full = join(p, name)
        let fst: Stats
        try {
          fst = statSync(full)
        } catch {
          continue // dangling symlink or vanished file
        }
        if (fst.isFile()) out.push({ path: resolve(full), stats: fst })
      }
    } else if (st.isFile()) {
      out.push({ path: resolve(p), stats: st })
    } else {
      throw new InputError(`"${p}" is neither a file nor a directory`)
    }
  }
  return out
}

/** The default capture name for the given paths: the directory's name. */
export function defaultCaptureName(paths: readonly string[]): string {
  const first = paths[0] ?? '.'
  let dir = resolve(first)
  try {
    if (!statSync(dir).isDirectory()) dir = dirname(dir)
  } catch {
    dir = dirname(dir)
  }
  return basename(dir) || 'capture'
}
