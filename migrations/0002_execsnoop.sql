-- execsnoop records: one row per completed execve(), the evidence of every exec'd process.
CREATE TABLE execsnoop_event (
  line_id INTEGER PRIMARY KEY REFERENCES log_line (id),
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  source_id INTEGER NOT NULL REFERENCES source (id),
  ts INTEGER,
  ts_precision TEXT,
  time_text TEXT,
  process_id INTEGER,
  uid INTEGER,
  comm TEXT,
  pid INTEGER,
  ppid INTEGER,
  pcomm TEXT,
  cpu INTEGER,
  ret INTEGER,
  args TEXT,
  filename TEXT,
  args_truncated INTEGER,
  elapsed_s REAL
);
CREATE INDEX execsnoop_event_pid ON execsnoop_event (capture_id, pid);
CREATE INDEX execsnoop_event_process ON execsnoop_event (process_id);
