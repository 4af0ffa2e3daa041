-- The event store: captures, the files they were read from, and every line
-- read, verbatim. This is the source of truth; the per-tool tables and the
-- derived tables are projections that `tracedb rebuild` can recreate.

-- One capture = the logs of one host over one time window (usually one
-- directory). PIDs only mean something inside a capture.
CREATE TABLE capture (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  -- date (YYYY-MM-DD) and zone (IANA name or +HH:MM) used to anchor
  -- wall-clock times printed without a date; NULL = taken from file times
  clock_date TEXT,
  clock_tz TEXT,
  -- capture.json written by `tracedb record`, verbatim, when present
  meta TEXT
);

-- One log file of a capture. A file is identified by device+inode and a
-- fingerprint of its first line, not by name; committed_offset advances in
-- the same transaction as the lines it covers.
CREATE TABLE source (
  id INTEGER PRIMARY KEY,
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  path TEXT NOT NULL,
  dev INTEGER,
  ino INTEGER,
  fingerprint TEXT,
  committed_offset INTEGER NOT NULL DEFAULT 0,
  committed_lines INTEGER NOT NULL DEFAULT 0,
  size_seen INTEGER NOT NULL DEFAULT 0,
  mtime_ms INTEGER,
  format TEXT,
  variant TEXT,
  flags TEXT,
  -- JSON: the parser's layout and clock state, to resume mid-file
  parser_state TEXT,
  -- the last record line, target of continuation lines that follow later
  last_record_line_id INTEGER,
  -- active | replaced (truncated, rotated, rewritten) | unknown (no header)
  state TEXT NOT NULL DEFAULT 'active',
  first_read_at TEXT NOT NULL,
  last_read_at TEXT NOT NULL
);
CREATE INDEX source_capture ON source (capture_id, path);

-- Every physical line read, whatever it was.
CREATE TABLE log_line (
  id INTEGER PRIMARY KEY,
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  source_id INTEGER NOT NULL REFERENCES source (id),
  line_no INTEGER NOT NULL,
  byte_offset INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('header', 'record', 'continuation', 'message', 'bad')),
  raw TEXT NOT NULL,
  -- the exact bytes, only when the line is not valid UTF-8 (raw then holds
  -- the text with U+FFFD replacements)
  raw_bytes BLOB,
  -- message text, or why a bad line did not parse
  detail TEXT,
  -- 1 for a last line that had no newline yet (replaced if the file grows)
  partial INTEGER NOT NULL DEFAULT 0,
  UNIQUE (source_id, line_no)
);
CREATE INDEX log_line_capture_kind ON log_line (capture_id, kind);

-- One `tracedb ingest` / `watch` run and what it added.
CREATE TABLE ingest_run (
  id INTEGER PRIMARY KEY,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  command TEXT NOT NULL,
  lines INTEGER NOT NULL DEFAULT 0,
  records INTEGER NOT NULL DEFAULT 0,
  bad INTEGER NOT NULL DEFAULT 0
);
