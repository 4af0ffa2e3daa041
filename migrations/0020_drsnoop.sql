-- drsnoop records: one row per direct-reclaim stall, the evidence of memory pressure hitting a task.
CREATE TABLE drsnoop_event (
  line_id INTEGER PRIMARY KEY REFERENCES log_line (id),
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  source_id INTEGER NOT NULL REFERENCES source (id),
  ts INTEGER,
  ts_precision TEXT,
  time_text TEXT,
  process_id INTEGER,
  comm TEXT,
  pid INTEGER,
  tid INTEGER,
  uid INTEGER,
  lat_ms REAL,
  pages INTEGER,
  free_kb INTEGER
);
CREATE INDEX drsnoop_event_pid ON drsnoop_event (capture_id, pid);
