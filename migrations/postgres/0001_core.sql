-- The centre: the tables of the SQLite store (migrations/*.sql), for the
-- captures of many hosts in one PostgreSQL database (`tracedb push`).
--
-- Identity: `capture` has the centre's own id and the capture's stable `uid`
-- (made on the host that recorded it). Every other table keeps the ids the
-- edge gave its rows (process.id, tcp_connection.id, log_line.id, source.id)
-- and gets the centre's capture_id; keys are (capture_id, id), so
-- parent_id, process_id, connection_id, source_id and line_id references
-- hold within a capture, and two hosts' captures never collide. A join
-- matches capture_id as well as the id. Every index leads with capture_id:
-- on Citus, every table is distributed by capture_id, co-located.
--
-- No foreign keys: a push writes a capture's rows in an order that suits
-- COPY, and deletes them explicitly.

CREATE TABLE capture (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- stable unique id given on the host that recorded the capture
  uid text NOT NULL UNIQUE,
  -- the host it was recorded on (capture.json's hostname, or --host)
  host text,
  -- the capture's name on its host (two hosts may both have `logs`)
  name text NOT NULL,
  created_at text NOT NULL,
  updated_at text NOT NULL,
  clock_date text,
  clock_tz text,
  meta text,
  -- the capture's id on its host, for reference
  edge_id bigint
);
CREATE INDEX capture_host_name ON capture (host, name);

-- What `tracedb push` has shipped of each capture, committed with the rows
-- (src/push/push.ts): every line (and its record) with id <= lines_through;
-- every change the edge logged (its push_log) up to log_seq; derived: the
-- derived tables (process, tcp_connection, tcp_connection_pid) were shipped.
CREATE TABLE push_state (
  capture_id bigint PRIMARY KEY REFERENCES capture (id) ON DELETE CASCADE,
  lines_through bigint NOT NULL DEFAULT 0,
  log_seq bigint NOT NULL DEFAULT 0,
  derived boolean NOT NULL DEFAULT false,
  pushed_at text NOT NULL
);

CREATE TABLE source (
  id bigint NOT NULL,
  capture_id bigint NOT NULL,
  path text NOT NULL,
  dev bigint,
  ino bigint,
  fingerprint text,
  committed_offset bigint NOT NULL DEFAULT 0,
  committed_lines bigint NOT NULL DEFAULT 0,
  size_seen bigint NOT NULL DEFAULT 0,
  mtime_ms bigint,
  format text,
  variant text,
  flags text,
  parser_state text,
  last_record_line_id bigint,
  state text NOT NULL DEFAULT 'active',
  first_read_at text NOT NULL,
  last_read_at text NOT NULL,
  PRIMARY KEY (capture_id, id)
);
CREATE INDEX source_capture ON source (capture_id, path);

CREATE TABLE log_line (
  id bigint NOT NULL,
  capture_id bigint NOT NULL,
  source_id bigint NOT NULL,
  line_no bigint NOT NULL,
  byte_offset bigint NOT NULL,
  kind text NOT NULL,
  raw text NOT NULL,
  raw_bytes bytea,
  detail text,
  partial bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (capture_id, id)
);
CREATE INDEX log_line_capture_kind ON log_line (capture_id, kind);

CREATE TABLE execsnoop_event (
  line_id bigint NOT NULL,
  capture_id bigint NOT NULL,
  source_id bigint NOT NULL,
  ts bigint,
  ts_precision text,
  time_text text,
  process_id bigint,
  uid bigint,
  comm text,
  pid bigint,
  ppid bigint,
  pcomm text,
  cpu bigint,
  ret bigint,
  args text,
  filename text,
  args_truncated bigint,
  elapsed_s double precision,
  PRIMARY KEY (capture_id, line_id)
);
CREATE INDEX execsnoop_event_pid ON execsnoop_event (capture_id, pid);
CREATE INDEX execsnoop_event_process ON execsnoop_event (capture_id, process_id);

CREATE TABLE exitsnoop_event (
  line_id bigint NOT NULL,
  capture_id bigint NOT NULL,
  source_id bigint NOT NULL,
  ts bigint,
  ts_precision text,
  time_text text,
  process_id bigint,
  label text,
  comm text,
  pid bigint,
  ppid bigint,
  tid bigint,
  age_s double precision,
  exit_code bigint,
  signal bigint,
  signal_name text,
  core_dumped bigint,
  exit_text text,
  PRIMARY KEY (capture_id, line_id)
);
CREATE INDEX exitsnoop_event_pid ON exitsnoop_event (capture_id, pid);
CREATE INDEX exitsnoop_event_process ON exitsnoop_event (capture_id, process_id);

CREATE TABLE process (
  id bigint NOT NULL,
  capture_id bigint NOT NULL,
  pid bigint NOT NULL,
  ppid bigint,
  ppid_source text,
  parent_id bigint,
  comm text,
  filename text,
  args text,
  exec_count bigint NOT NULL DEFAULT 0,
  failed_exec_count bigint NOT NULL DEFAULT 0,
  start_ts bigint,
  start_source text,
  exec_ts bigint,
  exec_time_text text,
  exit_ts bigint,
  exit_time_text text,
  lifetime_s double precision,
  exit_code bigint,
  signal bigint,
  core_dumped bigint,
  seen_exec bigint NOT NULL DEFAULT 0,
  seen_exit bigint NOT NULL DEFAULT 0,
  inferred bigint NOT NULL DEFAULT 0,
  fork_only bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (capture_id, id)
);
CREATE INDEX process_capture_pid ON process (capture_id, pid);
CREATE INDEX process_parent ON process (capture_id, parent_id);
CREATE INDEX process_capture_ppid ON process (capture_id, ppid);

CREATE TABLE tcpstates_event (
  line_id bigint NOT NULL,
  capture_id bigint NOT NULL,
  source_id bigint NOT NULL,
  ts bigint,
  ts_precision text,
  time_text text,
  process_id bigint,
  skaddr text,
  pid bigint,
  comm text,
  ip bigint,
  laddr text,
  lport bigint,
  raddr text,
  rport bigint,
  oldstate text,
  newstate text,
  ms double precision,
  elapsed_s double precision,
  PRIMARY KEY (capture_id, line_id)
);
CREATE INDEX tcpstates_event_pid ON tcpstates_event (capture_id, pid);
CREATE INDEX tcpstates_event_skaddr ON tcpstates_event (capture_id, skaddr);
CREATE INDEX tcpstates_event_ports ON tcpstates_event (capture_id, lport, rport);
CREATE INDEX tcpstates_event_process ON tcpstates_event (capture_id, process_id);

CREATE TABLE tcplife_event (
  line_id bigint NOT NULL,
  capture_id bigint NOT NULL,
  source_id bigint NOT NULL,
  ts bigint,
  ts_precision text,
  time_text text,
  process_id bigint,
  pid bigint,
  comm text,
  ip bigint,
  laddr text,
  lport bigint,
  raddr text,
  rport bigint,
  tx_kb double precision,
  rx_kb double precision,
  ms double precision,
  elapsed_s double precision,
  PRIMARY KEY (capture_id, line_id)
);
CREATE INDEX tcplife_event_pid ON tcplife_event (capture_id, pid);
CREATE INDEX tcplife_event_ports ON tcplife_event (capture_id, lport, rport);
CREATE INDEX tcplife_event_process ON tcplife_event (capture_id, process_id);
CREATE INDEX tcplife_event_flow ON tcplife_event (capture_id, laddr, lport, raddr, rport);

CREATE TABLE tcpretrans_event (
  line_id bigint NOT NULL,
  capture_id bigint NOT NULL,
  source_id bigint NOT NULL,
  ts bigint,
  ts_precision text,
  time_text text,
  process_id bigint,
  mode text,
  pid bigint,
  ip bigint,
  laddr text,
  lport bigint,
  type text,
  raddr text,
  rport bigint,
  state text,
  seq bigint,
  count bigint,
  PRIMARY KEY (capture_id, line_id)
);
CREATE INDEX tcpretrans_event_pid ON tcpretrans_event (capture_id, pid);
CREATE INDEX tcpretrans_event_flow ON tcpretrans_event (capture_id, laddr, lport, raddr, rport);

CREATE TABLE tcpconnect_event (
  line_id bigint NOT NULL,
  capture_id bigint NOT NULL,
  source_id bigint NOT NULL,
  ts bigint,
  ts_precision text,
  time_text text,
  process_id bigint,
  mode text,
  uid bigint,
  pid bigint,
  comm text,
  ip bigint,
  saddr text,
  sport bigint,
  daddr text,
  dport bigint,
  query text,
  dns_age_ms double precision,
  count bigint,
  PRIMARY KEY (capture_id, line_id)
);
CREATE INDEX tcpconnect_event_pid ON tcpconnect_event (capture_id, pid);
CREATE INDEX tcpconnect_event_dest ON tcpconnect_event (capture_id, daddr, dport);
CREATE INDEX tcpconnect_event_process ON tcpconnect_event (capture_id, process_id);

CREATE TABLE tcpaccept_event (
  line_id bigint NOT NULL,
  capture_id bigint NOT NULL,
  source_id bigint NOT NULL,
  ts bigint,
  ts_precision text,
  time_text text,
  process_id bigint,
  pid bigint,
  comm text,
  ip bigint,
  raddr text,
  rport bigint,
  laddr text,
  lport bigint,
  elapsed_s double precision,
  PRIMARY KEY (capture_id, line_id)
);
CREATE INDEX tcpaccept_event_pid ON tcpaccept_event (capture_id, pid);
CREATE INDEX tcpaccept_event_ports ON tcpaccept_event (capture_id, lport, rport);
CREATE INDEX tcpaccept_event_process ON tcpaccept_event (capture_id, process_id);

CREATE TABLE tcpconnlat_event (
  line_id bigint NOT NULL,
  capture_id bigint NOT NULL,
  source_id bigint NOT NULL,
  ts bigint,
  ts_precision text,
  time_text text,
  process_id bigint,
  pid bigint,
  comm text,
  ip bigint,
  saddr text,
  sport bigint,
  daddr text,
  dport bigint,
  lat_ms double precision,
  PRIMARY KEY (capture_id, line_id)
);
CREATE INDEX tcpconnlat_event_pid ON tcpconnlat_event (capture_id, pid);
CREATE INDEX tcpconnlat_event_dest ON tcpconnlat_event (capture_id, daddr, dport);
CREATE INDEX tcpconnlat_event_process ON tcpconnlat_event (capture_id, process_id);

CREATE TABLE drsnoop_event (
  line_id bigint NOT NULL,
  capture_id bigint NOT NULL,
  source_id bigint NOT NULL,
  ts bigint,
  ts_precision text,
  time_text text,
  process_id bigint,
  comm text,
  pid bigint,
  tid bigint,
  uid bigint,
  lat_ms double precision,
  pages bigint,
  free_kb bigint,
  PRIMARY KEY (capture_id, line_id)
);
CREATE INDEX drsnoop_event_pid ON drsnoop_event (capture_id, pid);

CREATE TABLE shmsnoop_event (
  line_id bigint NOT NULL,
  capture_id bigint NOT NULL,
  source_id bigint NOT NULL,
  ts bigint,
  ts_precision text,
  time_text text,
  process_id bigint,
  pid bigint,
  tid bigint,
  comm text,
  sys text,
  ret text,
  ret_value bigint,
  shmid bigint,
  args text,
  PRIMARY KEY (capture_id, line_id)
);
CREATE INDEX shmsnoop_event_pid ON shmsnoop_event (capture_id, pid);

CREATE TABLE filelife_event (
  line_id bigint NOT NULL,
  capture_id bigint NOT NULL,
  source_id bigint NOT NULL,
  ts bigint,
  ts_precision text,
  time_text text,
  process_id bigint,
  pid bigint,
  comm text,
  age_s double precision,
  file text,
  PRIMARY KEY (capture_id, line_id)
);
CREATE INDEX filelife_event_pid ON filelife_event (capture_id, pid);

CREATE TABLE biosnoop_event (
  line_id bigint NOT NULL,
  capture_id bigint NOT NULL,
  source_id bigint NOT NULL,
  ts bigint,
  ts_precision text,
  time_text text,
  process_id bigint,
  comm text,
  pid bigint,
  disk text,
  rwbs text,
  sector bigint,
  bytes bigint,
  pattern text,
  que_ms double precision,
  lat_ms double precision,
  PRIMARY KEY (capture_id, line_id)
);
CREATE INDEX biosnoop_event_pid ON biosnoop_event (capture_id, pid);

CREATE TABLE sofdsnoop_event (
  line_id bigint NOT NULL,
  capture_id bigint NOT NULL,
  source_id bigint NOT NULL,
  ts bigint,
  ts_precision text,
  time_text text,
  process_id bigint,
  action text,
  tid bigint,
  pid bigint,
  comm text,
  sock_fd bigint,
  socket text,
  fd bigint,
  name text,
  PRIMARY KEY (capture_id, line_id)
);
CREATE INDEX sofdsnoop_event_pid ON sofdsnoop_event (capture_id, pid);
CREATE INDEX sofdsnoop_event_tid ON sofdsnoop_event (capture_id, tid);

CREATE TABLE opensnoop_event (
  line_id bigint NOT NULL,
  capture_id bigint NOT NULL,
  source_id bigint NOT NULL,
  ts bigint,
  ts_precision text,
  time_text text,
  process_id bigint,
  uid bigint,
  pid bigint,
  tid bigint,
  comm text,
  fd bigint,
  err bigint,
  flags text,
  mode text,
  path text,
  PRIMARY KEY (capture_id, line_id)
);
CREATE INDEX opensnoop_event_pid ON opensnoop_event (capture_id, pid);

CREATE TABLE killsnoop_event (
  line_id bigint NOT NULL,
  capture_id bigint NOT NULL,
  source_id bigint NOT NULL,
  ts bigint,
  ts_precision text,
  time_text text,
  process_id bigint,
  pid bigint,
  comm text,
  sig bigint,
  sig_name text,
  tpid bigint,
  tcomm text,
  result bigint,
  PRIMARY KEY (capture_id, line_id)
);
CREATE INDEX killsnoop_event_pid ON killsnoop_event (capture_id, pid);

CREATE TABLE tcp_connection (
  id bigint NOT NULL,
  capture_id bigint NOT NULL,
  skaddr text NOT NULL,
  side text NOT NULL,
  laddr text,
  lport bigint,
  raddr text,
  rport bigint,
  handshake_ms double precision,
  start_ts bigint,
  established_ts bigint,
  closed_ts bigint,
  states text NOT NULL,
  transitions bigint NOT NULL,
  complete bigint NOT NULL,
  tcplife_line_id bigint,
  lifetime_ms double precision,
  tx_kb double precision,
  rx_kb double precision,
  retransmits bigint,
  loss_probes bigint,
  first_line_id bigint,
  last_ts bigint,
  PRIMARY KEY (capture_id, id)
);
CREATE INDEX tcp_connection_capture ON tcp_connection (capture_id, lport, rport);
CREATE INDEX tcp_connection_skaddr ON tcp_connection (capture_id, skaddr);
CREATE INDEX tcp_connection_flow ON tcp_connection (capture_id, laddr, lport, raddr, rport);

CREATE TABLE tcp_connection_pid (
  connection_id bigint NOT NULL,
  capture_id bigint NOT NULL,
  pid bigint NOT NULL,
  comm text,
  evidence text NOT NULL,
  ts bigint,
  process_id bigint,
  PRIMARY KEY (capture_id, connection_id, pid, evidence)
);
CREATE INDEX tcp_connection_pid_pid ON tcp_connection_pid (capture_id, pid);
CREATE INDEX tcp_connection_pid_process ON tcp_connection_pid (capture_id, process_id);

CREATE TABLE runqslower_event (
  line_id bigint NOT NULL,
  capture_id bigint NOT NULL,
  source_id bigint NOT NULL,
  ts bigint,
  ts_precision text,
  time_text text,
  process_id bigint,
  comm text,
  pid bigint,
  tid bigint,
  lat_us bigint,
  prev_comm text,
  prev_tid bigint,
  PRIMARY KEY (capture_id, line_id)
);
CREATE INDEX runqslower_event_tid ON runqslower_event (capture_id, tid);
CREATE INDEX runqslower_event_pid ON runqslower_event (capture_id, pid);
CREATE INDEX runqslower_event_process ON runqslower_event (capture_id, process_id);


-- Readable views, as on SQLite (joins match capture_id).

CREATE VIEW process_edge AS
SELECT p.capture_id, p.parent_id, parent.pid AS parent_pid, p.id AS child_id, p.pid AS child_pid
FROM process p
JOIN process parent ON parent.id = p.parent_id AND parent.capture_id = p.capture_id;

CREATE VIEW process_exec AS
SELECT e.process_id, e.capture_id, e.pid, e.ppid, e.comm, e.ret, e.args, e.ts, e.time_text, e.line_id
FROM execsnoop_event e
WHERE e.process_id IS NOT NULL;

CREATE VIEW process_lifetime AS
SELECT
  p.id, p.capture_id, p.pid, p.ppid, p.comm, p.args,
  to_char(to_timestamp(p.start_ts / 1e9) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS start_utc,
  to_char(to_timestamp(p.exit_ts / 1e9) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS exit_utc,
  p.lifetime_s,
  CASE WHEN p.seen_exit = 1 THEN 'exited' ELSE 'outlived capture or exit not captured' END AS status
FROM process p;
