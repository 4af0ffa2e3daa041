-- runqslower records: one row per long wait of a thread on a CPU run queue, the evidence of CPU saturation.
-- The tool prints a thread id: pid stays NULL, and the event linker (coalesce(pid, tid)) links a row to the
-- process whose PID equals its TID (the main thread, or a single-threaded process).
CREATE TABLE runqslower_event (
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
  lat_us INTEGER,
  prev_comm TEXT,
  prev_tid INTEGER
);
CREATE INDEX runqslower_event_tid ON runqslower_event (capture_id, tid);
CREATE INDEX runqslower_event_pid ON runqslower_event (capture_id, pid);
CREATE INDEX runqslower_event_process ON runqslower_event (process_id);
