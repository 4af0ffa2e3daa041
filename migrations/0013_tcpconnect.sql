-- tcpconnect records: which process tried to connect where (and -c per-flow counts), the outbound side of a process's network activity.
CREATE TABLE tcpconnect_event (
  line_id INTEGER PRIMARY KEY REFERENCES log_line (id),
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  source_id INTEGER NOT NULL REFERENCES source (id),
  ts INTEGER,
  ts_precision TEXT,
  time_text TEXT,
  process_id INTEGER,
  mode TEXT,
  uid INTEGER,
  pid INTEGER,
  comm TEXT,
  ip INTEGER,
  saddr TEXT,
  sport INTEGER,
  daddr TEXT,
  dport INTEGER,
  query TEXT,
  dns_age_ms REAL,
  count INTEGER
);
CREATE INDEX tcpconnect_event_pid ON tcpconnect_event (capture_id, pid);
CREATE INDEX tcpconnect_event_dest ON tcpconnect_event (capture_id, daddr, dport);
CREATE INDEX tcpconnect_event_process ON tcpconnect_event (process_id);
