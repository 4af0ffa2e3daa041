-- killsnoop/sigsnoop records: one row per signal sent, to tell who killed (or signalled) whom.
CREATE TABLE killsnoop_event (
  line_id INTEGER PRIMARY KEY REFERENCES log_line (id),
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  source_id INTEGER NOT NULL REFERENCES source (id),
  ts INTEGER,
  ts_precision TEXT,
  time_text TEXT,
  process_id INTEGER,
  pid INTEGER,
  comm TEXT,
  sig INTEGER,
  sig_name TEXT,
  tpid INTEGER,
  tcomm TEXT,
  result INTEGER
);
CREATE INDEX killsnoop_event_pid ON killsnoop_event (capture_id, pid);
