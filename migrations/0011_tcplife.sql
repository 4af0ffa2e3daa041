-- tcplife records: one row per closed TCP socket, the bytes and lifetime joined to tcp_connection.
CREATE TABLE tcplife_event (
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
  laddr TEXT,
  lport INTEGER,
  raddr TEXT,
  rport INTEGER,
  tx_kb REAL,
  rx_kb REAL,
  ms REAL,
  elapsed_s REAL
);
CREATE INDEX tcplife_event_pid ON tcplife_event (capture_id, pid);
CREATE INDEX tcplife_event_ports ON tcplife_event (capture_id, lport, rport);
CREATE INDEX tcplife_event_process ON tcplife_event (process_id);
