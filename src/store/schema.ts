import type { ColumnType, Generated } from 'kysely'

/**
 * The Kysely `Database` interface: the tables of `migrations/*.sql` as seen by
 * tracedb's own typed reads and writes. `CORE_COLUMNS` repeats the column
 * names at run time so a test can keep both in sync with the migrations
 * (PRAGMA table_info); the per-tool `<format>_event` tables are checked
 * against each format's declared columns instead.
 */

/** Integer nanoseconds since the Unix epoch (UTC); bound as bigint. */
type Ns = ColumnType<number | null, bigint | number | null, bigint | number | null>

export interface CaptureTable {
  id: Generated<number>
  name: string
  created_at: string
  updated_at: string
  clock_date: string | null
  clock_tz: string | null
  meta: string | null
  uid: string | null
  host: string | null
}

export interface SourceTable {
  id: Generated<number>
  capture_id: number
  path: string
  dev: number | null
  ino: number | null
  fingerprint: string | null
  committed_offset: number
  committed_lines: number
  size_seen: number
  mtime_ms: number | null
  format: string | null
  variant: string | null
  flags: string | null
  parser_state: string | null
  last_record_line_id: number | null
  state: 'active' | 'replaced' | 'unknown'
  first_read_at: string
  last_read_at: string
  /** ns: the instant the relative clock counts from */
  rel_anchor_ts: Ns
  rel_anchor_error_ms: number | null
  rel_anchor_source: string | null
  rel_anchor_lines: number | null
}

export interface LogLineTable {
  id: Generated<number>
  capture_id: number
  source_id: number
  line_no: number
  byte_offset: number
  kind: 'header' | 'record' | 'continuation' | 'message' | 'bad'
  raw: string
  raw_bytes: Buffer | null
  detail: string | null
  partial: number
}

export interface IngestRunTable {
  id: Generated<number>
  started_at: string
  finished_at: string | null
  command: string
  lines: number
  records: number
  bad: number
}

export interface ProcessTable {
  id: Generated<number>
  capture_id: number
  pid: number
  ppid: number | null
  ppid_source: 'exec' | 'exit' | null
  parent_id: number | null
  comm: string | null
  filename: string | null
  args: string | null
  exec_count: number
  failed_exec_count: number
  start_ts: Ns
  start_source: 'exit_age' | 'exec' | 'bounded' | null
  exec_ts: Ns
  exec_time_text: string | null
  exit_ts: Ns
  exit_time_text: string | null
  lifetime_s: number | null
  exit_code: number | null
  signal: number | null
  core_dumped: number | null
  seen_exec: number
  seen_exit: number
  inferred: number
  fork_only: number
  start_precision: string | null
  exit_precision: string | null
}

/** Common leading columns of every `<format>_event` table. */
export interface EventColumns {
  line_id: number
  capture_id: number
  source_id: number
  ts: Ns
  ts_precision: string | null
  time_text: string | null
  process_id: number | null
}

/** A `<format>_event` table: common columns + the format's declared columns. */
export type FormatEventTable = EventColumns & Record<string, string | number | bigint | null>

/** A TCP connection derived from tcpstates (+ tcplife, tcpretrans). */
export interface TcpConnectionTable {
  id: number
  capture_id: number
  skaddr: string
  side: 'server' | 'client' | 'unknown'
  laddr: string | null
  lport: number | null
  raddr: string | null
  rport: number | null
  handshake_ms: number | null
  start_ts: Ns
  established_ts: Ns
  closed_ts: Ns
  states: string
  transitions: number
  complete: number
  tcplife_line_id: number | null
  lifetime_ms: number | null
  tx_kb: number | null
  rx_kb: number | null
  retransmits: number | null
  loss_probes: number | null
  /** line of the first transition: with skaddr, the connection's identity */
  first_line_id: number | null
  /** time of the last transition seen */
  last_ts: Ns
}

/** How far a capture's derived tables follow its lines (src/derive/index.ts). */
export interface DeriveStateTable {
  capture_id: number
  derived_through: number
}

/** Changes to rows a push may have shipped (migrations/0044_push_log.sql). */
export interface PushLogTable {
  seq: Generated<number>
  capture_id: number
  tbl: string
  key: number
}

/** Surrogate ids, handed out once. */
export interface IdSequenceTable {
  name: string
  next_id: number
}

/** A PID seen on a connection, and the process instance it was. */
export interface TcpConnectionPidTable {
  connection_id: number
  capture_id: number
  pid: number
  comm: string | null
  evidence: 'tcpstates' | 'tcplife'
  ts: Ns
  process_id: number | null
}

export interface Database {
  capture: CaptureTable
  source: SourceTable
  log_line: LogLineTable
  ingest_run: IngestRunTable
  process: ProcessTable
  tcp_connection: TcpConnectionTable
  tcp_connection_pid: TcpConnectionPidTable
  derive_state: DeriveStateTable
  id_sequence: IdSequenceTable
  push_log: PushLogTable
  [formatTable: `${string}_event`]: FormatEventTable
}

/** Column names of the core tables, in migration order (checked by a test). */
export const CORE_COLUMNS = {
  capture: ['id', 'name', 'created_at', 'updated_at', 'clock_date', 'clock_tz', 'meta', 'uid', 'host'],
  source: [
    'id', 'capture_id', 'path', 'dev', 'ino', 'fingerprint', 'committed_offset', 'committed_lines',
    'size_seen', 'mtime_ms', 'format', 'variant', 'flags', 'parser_state', 'last_record_line_id',
    'state', 'first_read_at', 'last_read_at', 'rel_anchor_ts', 'rel_anchor_error_ms', 'rel_anchor_source',
    'rel_anchor_lines',
  ],
  log_line: [
    'id', 'capture_id', 'source_id', 'line_no', 'byte_offset', 'kind', 'raw', 'raw_bytes', 'detail',
    'partial',
  ],
  ingest_run: ['id', 'started_at', 'finished_at', 'command', 'lines', 'records', 'bad'],
  process: [
    'id', 'capture_id', 'pid', 'ppid', 'ppid_source', 'parent_id', 'comm', 'filename', 'args',
    'exec_count', 'failed_exec_count', 'start_ts', 'start_source', 'exec_ts', 'exec_time_text',
    'exit_ts', 'exit_time_text', 'lifetime_s', 'exit_code', 'signal', 'core_dumped', 'seen_exec',
    'seen_exit', 'inferred', 'fork_only', 'start_precision', 'exit_precision',
  ],
  tcp_connection: [
    'id', 'capture_id', 'skaddr', 'side', 'laddr', 'lport', 'raddr', 'rport', 'handshake_ms', 'start_ts',
    'established_ts', 'closed_ts', 'states', 'transitions', 'complete', 'tcplife_line_id', 'lifetime_ms',
    'tx_kb', 'rx_kb', 'retransmits', 'loss_probes', 'first_line_id', 'last_ts',
  ],
  tcp_connection_pid: ['connection_id', 'capture_id', 'pid', 'comm', 'evidence', 'ts', 'process_id'],
  derive_state: ['capture_id', 'derived_through'],
  id_sequence: ['name', 'next_id'],
  push_log: ['seq', 'capture_id', 'tbl', 'key'],
} as const satisfies { [T in keyof Omit<Database, `${string}_event`>]: readonly (keyof Database[T])[] }

/** The common leading columns of every `<format>_event` table, in order. */
export const EVENT_COLUMNS = [
  'line_id', 'capture_id', 'source_id', 'ts', 'ts_precision', 'time_text', 'process_id',
] as const satisfies readonly (keyof EventColumns)[]
