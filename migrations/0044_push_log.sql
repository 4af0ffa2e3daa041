-- What changed in rows `tracedb push` may already have shipped (src/push/push.ts).
--
-- A push ships a capture's lines and their records up to the derive
-- watermark (derive_state.derived_through) and, after that, what changed.
-- New rows are found by line id; rows changed in place are logged here by
-- the triggers below, with a sequence number a centre remembers
-- (push_state.log_seq), so each centre gets every change once, whenever it
-- pushes. Nothing is logged while a capture is derived the first time (no
-- derive_state row yet): none of its rows can have been shipped; and a
-- record's process_id, which derivation sets for millions of rows at once,
-- is not logged row by row: a record is linked again only when the
-- instances of its PID change, so the PID is logged (tbl = pid) and a push
-- sends the records of those PIDs again.
--   tbl = process | tcp_connection: the row with id `key` was written or deleted
--   tbl = pid: an instance of PID `key` was written or deleted: its records may be linked anew
--   tbl = tcp_connection_pid: the rows of connection `key` changed
--   tbl = an event table: the record of line `key` changed in place (a
--         continuation line grew its arguments)
--   tbl = lines: the watermark went back to `key` (a partial last line was
--         dropped to be read again): lines and records above it are sent again
--   tbl = *: the capture was derived again from scratch (tracedb rebuild): all of it is sent again
CREATE TABLE push_log (
  seq INTEGER PRIMARY KEY,
  capture_id INTEGER NOT NULL,
  tbl TEXT NOT NULL,
  key INTEGER NOT NULL
);
CREATE INDEX push_log_capture ON push_log (capture_id, seq);

CREATE TRIGGER push_log_watermark_back AFTER UPDATE OF derived_through ON derive_state
WHEN new.derived_through < old.derived_through
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'lines', new.derived_through); END;
CREATE TRIGGER push_log_rederive AFTER DELETE ON derive_state
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, '*', 0); END;

CREATE TRIGGER push_log_process_insert AFTER INSERT ON process
WHEN EXISTS (SELECT 1 FROM derive_state WHERE capture_id = new.capture_id)
BEGIN
  INSERT INTO push_log (capture_id, tbl, key) VALUES (new.capture_id, 'process', new.id);
  INSERT INTO push_log (capture_id, tbl, key) VALUES (new.capture_id, 'pid', new.pid);
END;
CREATE TRIGGER push_log_process_update AFTER UPDATE ON process
WHEN EXISTS (SELECT 1 FROM derive_state WHERE capture_id = new.capture_id)
BEGIN
  INSERT INTO push_log (capture_id, tbl, key) VALUES (new.capture_id, 'process', new.id);
  INSERT INTO push_log (capture_id, tbl, key) VALUES (new.capture_id, 'pid', new.pid);
END;
CREATE TRIGGER push_log_process_delete AFTER DELETE ON process
WHEN EXISTS (SELECT 1 FROM derive_state WHERE capture_id = old.capture_id)
BEGIN
  INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'process', old.id);
  INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'pid', old.pid);
END;
CREATE TRIGGER push_log_tcp_connection_insert AFTER INSERT ON tcp_connection
WHEN EXISTS (SELECT 1 FROM derive_state WHERE capture_id = new.capture_id)
BEGIN
  INSERT INTO push_log (capture_id, tbl, key) VALUES (new.capture_id, 'tcp_connection', new.id);
END;
CREATE TRIGGER push_log_tcp_connection_update AFTER UPDATE ON tcp_connection
WHEN EXISTS (SELECT 1 FROM derive_state WHERE capture_id = new.capture_id)
BEGIN
  INSERT INTO push_log (capture_id, tbl, key) VALUES (new.capture_id, 'tcp_connection', new.id);
END;
CREATE TRIGGER push_log_tcp_connection_delete AFTER DELETE ON tcp_connection
WHEN EXISTS (SELECT 1 FROM derive_state WHERE capture_id = old.capture_id)
BEGIN
  INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'tcp_connection', old.id);
END;
CREATE TRIGGER push_log_tcp_connection_pid_insert AFTER INSERT ON tcp_connection_pid
WHEN EXISTS (SELECT 1 FROM derive_state WHERE capture_id = new.capture_id)
BEGIN
  INSERT INTO push_log (capture_id, tbl, key) VALUES (new.capture_id, 'tcp_connection_pid', new.connection_id);
END;
CREATE TRIGGER push_log_tcp_connection_pid_update AFTER UPDATE ON tcp_connection_pid
WHEN EXISTS (SELECT 1 FROM derive_state WHERE capture_id = new.capture_id)
BEGIN
  INSERT INTO push_log (capture_id, tbl, key) VALUES (new.capture_id, 'tcp_connection_pid', new.connection_id);
END;
CREATE TRIGGER push_log_tcp_connection_pid_delete AFTER DELETE ON tcp_connection_pid
WHEN EXISTS (SELECT 1 FROM derive_state WHERE capture_id = old.capture_id)
BEGIN
  INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'tcp_connection_pid', old.connection_id);
END;

-- Records changed in place, in any column but process_id (see above).
CREATE TRIGGER push_log_biosnoop_event AFTER UPDATE OF ts, ts_precision, time_text, comm, pid, disk, rwbs, sector, bytes, pattern, que_ms, lat_ms ON biosnoop_event
WHEN old.line_id <= (SELECT derived_through FROM derive_state WHERE capture_id = old.capture_id)
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'biosnoop_event', old.line_id); END;
CREATE TRIGGER push_log_drsnoop_event AFTER UPDATE OF ts, ts_precision, time_text, comm, pid, tid, uid, lat_ms, pages, free_kb ON drsnoop_event
WHEN old.line_id <= (SELECT derived_through FROM derive_state WHERE capture_id = old.capture_id)
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'drsnoop_event', old.line_id); END;
CREATE TRIGGER push_log_execsnoop_event AFTER UPDATE OF ts, ts_precision, time_text, uid, comm, pid, ppid, pcomm, cpu, ret, args, filename, args_truncated, elapsed_s ON execsnoop_event
WHEN old.line_id <= (SELECT derived_through FROM derive_state WHERE capture_id = old.capture_id)
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'execsnoop_event', old.line_id); END;
CREATE TRIGGER push_log_exitsnoop_event AFTER UPDATE OF ts, ts_precision, time_text, label, comm, pid, ppid, tid, age_s, exit_code, signal, signal_name, core_dumped, exit_text ON exitsnoop_event
WHEN old.line_id <= (SELECT derived_through FROM derive_state WHERE capture_id = old.capture_id)
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'exitsnoop_event', old.line_id); END;
CREATE TRIGGER push_log_filelife_event AFTER UPDATE OF ts, ts_precision, time_text, pid, comm, age_s, file ON filelife_event
WHEN old.line_id <= (SELECT derived_through FROM derive_state WHERE capture_id = old.capture_id)
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'filelife_event', old.line_id); END;
CREATE TRIGGER push_log_killsnoop_event AFTER UPDATE OF ts, ts_precision, time_text, pid, comm, sig, sig_name, tpid, tcomm, result ON killsnoop_event
WHEN old.line_id <= (SELECT derived_through FROM derive_state WHERE capture_id = old.capture_id)
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'killsnoop_event', old.line_id); END;
CREATE TRIGGER push_log_opensnoop_event AFTER UPDATE OF ts, ts_precision, time_text, uid, pid, tid, comm, fd, err, flags, mode, path ON opensnoop_event
WHEN old.line_id <= (SELECT derived_through FROM derive_state WHERE capture_id = old.capture_id)
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'opensnoop_event', old.line_id); END;
CREATE TRIGGER push_log_runqslower_event AFTER UPDATE OF ts, ts_precision, time_text, comm, pid, tid, lat_us, prev_comm, prev_tid ON runqslower_event
WHEN old.line_id <= (SELECT derived_through FROM derive_state WHERE capture_id = old.capture_id)
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'runqslower_event', old.line_id); END;
CREATE TRIGGER push_log_shmsnoop_event AFTER UPDATE OF ts, ts_precision, time_text, pid, tid, comm, sys, ret, ret_value, shmid, args ON shmsnoop_event
WHEN old.line_id <= (SELECT derived_through FROM derive_state WHERE capture_id = old.capture_id)
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'shmsnoop_event', old.line_id); END;
CREATE TRIGGER push_log_sofdsnoop_event AFTER UPDATE OF ts, ts_precision, time_text, action, tid, pid, comm, sock_fd, socket, fd, name ON sofdsnoop_event
WHEN old.line_id <= (SELECT derived_through FROM derive_state WHERE capture_id = old.capture_id)
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'sofdsnoop_event', old.line_id); END;
CREATE TRIGGER push_log_tcpaccept_event AFTER UPDATE OF ts, ts_precision, time_text, pid, comm, ip, raddr, rport, laddr, lport, elapsed_s ON tcpaccept_event
WHEN old.line_id <= (SELECT derived_through FROM derive_state WHERE capture_id = old.capture_id)
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'tcpaccept_event', old.line_id); END;
CREATE TRIGGER push_log_tcpconnect_event AFTER UPDATE OF ts, ts_precision, time_text, mode, uid, pid, comm, ip, saddr, sport, daddr, dport, query, dns_age_ms, count ON tcpconnect_event
WHEN old.line_id <= (SELECT derived_through FROM derive_state WHERE capture_id = old.capture_id)
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'tcpconnect_event', old.line_id); END;
CREATE TRIGGER push_log_tcpconnlat_event AFTER UPDATE OF ts, ts_precision, time_text, pid, comm, ip, saddr, sport, daddr, dport, lat_ms ON tcpconnlat_event
WHEN old.line_id <= (SELECT derived_through FROM derive_state WHERE capture_id = old.capture_id)
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'tcpconnlat_event', old.line_id); END;
CREATE TRIGGER push_log_tcplife_event AFTER UPDATE OF ts, ts_precision, time_text, pid, comm, ip, laddr, lport, raddr, rport, tx_kb, rx_kb, ms, elapsed_s ON tcplife_event
WHEN old.line_id <= (SELECT derived_through FROM derive_state WHERE capture_id = old.capture_id)
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'tcplife_event', old.line_id); END;
CREATE TRIGGER push_log_tcpretrans_event AFTER UPDATE OF ts, ts_precision, time_text, mode, pid, ip, laddr, lport, type, raddr, rport, state, seq, count ON tcpretrans_event
WHEN old.line_id <= (SELECT derived_through FROM derive_state WHERE capture_id = old.capture_id)
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'tcpretrans_event', old.line_id); END;
CREATE TRIGGER push_log_tcpstates_event AFTER UPDATE OF ts, ts_precision, time_text, skaddr, pid, comm, ip, laddr, lport, raddr, rport, oldstate, newstate, ms, elapsed_s ON tcpstates_event
WHEN old.line_id <= (SELECT derived_through FROM derive_state WHERE capture_id = old.capture_id)
BEGIN INSERT INTO push_log (capture_id, tbl, key) VALUES (old.capture_id, 'tcpstates_event', old.line_id); END;
