-- tcpaccept records: which process accepted which connection, the inbound side of a process's network activity.
CREATE TABLE tcpaccept_event (
  line_id INTEGER PRIMARY KEY REFERENCES log_line (id),
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  source_id INTEGER NOT NULL REFERENCES source (id),
  ts INTEGER,
  ts_precision TEXT,
  time_text TEXT,
  process_id INTEGER,
  pid INTEGER,
  comm TEXT,
  ip INTEGER,
  raddr TEXT,
  rport INTEGER,
  laddr TEXT,
  lport INTEGER,
  elapsed_s REAL
);
CREATE INDEX tcpaccept_event_pid ON tcpaccept_event (capture_id, pid);
CREATE INDEX tcpaccept_event_ports ON tcpaccept_event (capture_id, lport, rport);
CREATE INDEX tcpaccept_event_process ON tcpaccept_event (process_id);
