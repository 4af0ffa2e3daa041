-- filelife records: one row per short-lived file, the trace of temporary files a process created and removed.
CREATE TABLE filelife_event (
  line_id INTEGER PRIMARY KEY REFERENCES log_line (id),
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  source_id INTEGER NOT NULL REFERENCES source (id),
  ts INTEGER,
  ts_precision TEXT,
  time_text TEXT,
  process_id INTEGER,
  pid INTEGER,
  comm TEXT,
  age_s REAL,
  file TEXT
);
CREATE INDEX filelife_event_pid ON filelife_event (capture_id, pid);
