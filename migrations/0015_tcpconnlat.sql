-- tcpconnlat records: connect latency (SYN to answer) per process and destination, to spot slow or refused peers.
CREATE TABLE tcpconnlat_event (
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
  saddr TEXT,
  sport INTEGER,
  daddr TEXT,
  dport INTEGER,
  lat_ms REAL
);
CREATE INDEX tcpconnlat_event_pid ON tcpconnlat_event (capture_id, pid);
CREATE INDEX tcpconnlat_event_dest ON tcpconnlat_event (capture_id, daddr, dport);
CREATE INDEX tcpconnlat_event_process ON tcpconnlat_event (process_id);
