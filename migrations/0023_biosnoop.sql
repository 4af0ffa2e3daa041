-- biosnoop records: one row per completed block I/O, to attribute disk traffic and latency to tasks.
CREATE TABLE biosnoop_event (
  line_id INTEGER PRIMARY KEY REFERENCES log_line (id),
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  source_id INTEGER NOT NULL REFERENCES source (id),
  ts INTEGER,
  ts_precision TEXT,
  time_text TEXT,
  process_id INTEGER,
  comm TEXT,
  pid INTEGER,
  disk TEXT,
  rwbs TEXT,
  sector INTEGER,
  bytes INTEGER,
  pattern TEXT,
  que_ms REAL,
  lat_ms REAL
);
CREATE INDEX biosnoop_event_pid ON biosnoop_event (capture_id, pid);
