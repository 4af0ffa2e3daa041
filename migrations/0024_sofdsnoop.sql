-- sofdsnoop records: one row per fd passed over a unix socket, the evidence of descriptors crossing processes.
CREATE TABLE sofdsnoop_event (
  line_id INTEGER PRIMARY KEY REFERENCES log_line (id),
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  source_id INTEGER NOT NULL REFERENCES source (id),
  ts INTEGER,
  ts_precision TEXT,
  time_text TEXT,
  process_id INTEGER,
  action TEXT,
  tid INTEGER,
  pid INTEGER,
  comm TEXT,
  sock_fd INTEGER,
  socket TEXT,
  fd INTEGER,
  name TEXT
);
CREATE INDEX sofdsnoop_event_pid ON sofdsnoop_event (capture_id, pid);
CREATE INDEX sofdsnoop_event_tid ON sofdsnoop_event (capture_id, tid);
