-- tcpstates records: every TCP state transition per socket, the raw material of tcp_connection (handshake, close, who was on CPU).
CREATE TABLE tcpstates_event (
  line_id INTEGER PRIMARY KEY REFERENCES log_line (id),
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  source_id INTEGER NOT NULL REFERENCES source (id),
  ts INTEGER,
  ts_precision TEXT,
  time_text TEXT,
  process_id INTEGER,
  skaddr TEXT,
  pid INTEGER,
  comm TEXT,
  ip INTEGER,
  laddr TEXT,
  lport INTEGER,
  raddr TEXT,
  rport INTEGER,
  oldstate TEXT,
  newstate TEXT,
  ms REAL,
  elapsed_s REAL
);
CREATE INDEX tcpstates_event_pid ON tcpstates_event (capture_id, pid);
CREATE INDEX tcpstates_event_skaddr ON tcpstates_event (capture_id, skaddr);
CREATE INDEX tcpstates_event_ports ON tcpstates_event (capture_id, lport, rport);
CREATE INDEX tcpstates_event_process ON tcpstates_event (process_id);
