import type BetterSqlite3 from 'better-sqlite3'
import { linkEvents } from './link.js'
import { deriveProcesses } from './processes.js'
import { deriveTcp } from './tcp.js'

export interface DeriveReport {
  readonly processes: number
  readonly connections: number
  /** event rows whose process instance changed */
  readonly linked: number
}

/** Rebuilds every derived table of a capture from its per-tool tables. */
export function deriveAll(sqlite: BetterSqlite3.Database, captureId: number): DeriveReport {
  const processes = deriveProcesses(sqlite, captureId)
  const connections = deriveTcp(sqlite, captureId)
  const linked = linkEvents(sqlite, captureId)
  return { processes, connections, linked }
}
