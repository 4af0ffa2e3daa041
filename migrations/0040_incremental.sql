-- Incremental derivation (see src/derive/index.ts).

-- How far each capture's derived tables follow its lines: every event row of
-- the capture with line_id <= derived_through is reflected in `process`,
-- `tcp_connection` and every `process_id`. Advanced in the same transaction
-- as the lines it covers.
CREATE TABLE derive_state (
  capture_id INTEGER PRIMARY KEY REFERENCES capture (id),
  derived_through INTEGER NOT NULL DEFAULT 0
);

-- Surrogate ids are handed out once and never again, across captures: a
-- process instance keeps its id forever, and an id that was deleted (two
-- instances found to be one) is not given to another.
CREATE TABLE id_sequence (
  name TEXT PRIMARY KEY,
  next_id INTEGER NOT NULL
);
INSERT INTO id_sequence (name, next_id) SELECT 'process', coalesce(max(id), 0) + 1 FROM process;
INSERT INTO id_sequence (name, next_id) SELECT 'tcp_connection', coalesce(max(id), 0) + 1 FROM tcp_connection;

-- The children of a PID: re-resolved when that PID's instances change.
CREATE INDEX process_capture_ppid ON process (capture_id, ppid);

-- A connection's identity: its socket address and its first transition's line.
ALTER TABLE tcp_connection ADD COLUMN first_line_id INTEGER;
CREATE INDEX tcp_connection_skaddr ON tcp_connection (capture_id, skaddr);
CREATE INDEX tcp_connection_flow ON tcp_connection (capture_id, laddr, lport, raddr, rport);
CREATE INDEX tcplife_event_flow ON tcplife_event (capture_id, laddr, lport, raddr, rport);
-- Time of the last transition seen: a connection not closed in the capture
-- is matched to tcplife and tcpretrans around it.
ALTER TABLE tcp_connection ADD COLUMN last_ts INTEGER;
