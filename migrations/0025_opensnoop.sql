-- opensnoop records: one row per open()/openat(), what each process opened or failed to open.
CREATE TABLE opensnoop_event (
  line_id INTEGER PRIMARY KEY REFERENCES log_line (id),
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  source_id INTEGER NOT NULL REFERENCES source (id),
  ts INTEGER,
  ts_precision TEXT,
  time_text TEXT,
  process_id INTEGER,
  uid INTEGER,
  pid INTEGER,
  tid INTEGER,
  comm TEXT,
  fd INTEGER,
  err INTEGER,
  flags TEXT,
  mode TEXT,
  path TEXT
);
CREATE INDEX opensnoop_event_pid ON opensnoop_event (capture_id, pid);
