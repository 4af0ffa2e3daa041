-- exitsnoop records: one row per exit; the only evidence of processes that forked without exec.
CREATE TABLE exitsnoop_event (
  line_id INTEGER PRIMARY KEY REFERENCES log_line (id),
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  source_id INTEGER NOT NULL REFERENCES source (id),
  ts INTEGER,
  ts_precision TEXT,
  time_text TEXT,
  process_id INTEGER,
  label TEXT,
  comm TEXT,
  pid INTEGER,
  ppid INTEGER,
  tid INTEGER,
  age_s REAL,
  exit_code INTEGER,
  signal INTEGER,
  signal_name TEXT,
  core_dumped INTEGER,
  exit_text TEXT
);
CREATE INDEX exitsnoop_event_pid ON exitsnoop_event (capture_id, pid);
CREATE INDEX exitsnoop_event_process ON exitsnoop_event (process_id);
