-- shmsnoop records: one row per System V shared-memory syscall, to follow segments between processes.
CREATE TABLE shmsnoop_event (
  line_id INTEGER PRIMARY KEY REFERENCES log_line (id),
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  source_id INTEGER NOT NULL REFERENCES source (id),
  ts INTEGER,
  ts_precision TEXT,
  time_text TEXT,
  process_id INTEGER,
  pid INTEGER,
  tid INTEGER,
  comm TEXT,
  sys TEXT,
  ret TEXT,
  ret_value INTEGER,
  shmid INTEGER,
  args TEXT
);
CREATE INDEX shmsnoop_event_pid ON shmsnoop_event (capture_id, pid);
