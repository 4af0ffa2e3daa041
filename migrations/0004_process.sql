-- Process instances derived from execsnoop and exitsnoop. A PID is not an
-- identity (PIDs are reused), so each instance gets a surrogate id; the table
-- is a projection of the per-tool tables, kept in step with them batch by
-- batch (src/derive/index.ts); an instance keeps its id.
CREATE TABLE process (
  id INTEGER PRIMARY KEY,
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  pid INTEGER NOT NULL,
  -- parent PID: the earliest seen (exec before exit: the kernel reparents
  -- orphans, so a later PPID may be 1 or a subreaper)
  ppid INTEGER,
  -- where ppid came from: exec | exit
  ppid_source TEXT,
  -- the parent instance alive when this one started (NULL: unknown)
  parent_id INTEGER REFERENCES process (id),
  -- task name: after the last exec, else at exit, else as parent's comm
  comm TEXT,
  -- the last successful exec of the instance (all execs: execsnoop_event.process_id)
  filename TEXT,
  args TEXT,
  exec_count INTEGER NOT NULL DEFAULT 0,
  failed_exec_count INTEGER NOT NULL DEFAULT 0,
  -- start: exit time minus exitsnoop AGE when the exit was seen, else the
  -- first exec's time (an upper bound of the fork time)
  start_ts INTEGER,
  start_source TEXT,
  exec_ts INTEGER,
  exec_time_text TEXT,
  exit_ts INTEGER,
  exit_time_text TEXT,
  -- seconds from start to exit (exitsnoop AGE); NULL when the process outlived
  -- the capture or its exit was not captured
  lifetime_s REAL,
  exit_code INTEGER,
  signal INTEGER,
  core_dumped INTEGER,
  seen_exec INTEGER NOT NULL DEFAULT 0,
  seen_exit INTEGER NOT NULL DEFAULT 0,
  -- 1: never seen itself, only as someone's PPID (a placeholder parent)
  inferred INTEGER NOT NULL DEFAULT 0,
  -- 1: forked and exited without exec (seen only by exitsnoop)
  fork_only INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX process_capture_pid ON process (capture_id, pid);
CREATE INDEX process_parent ON process (parent_id);

-- Readable views for the sqlite3 shell.

-- Parent/child edges of the process tree.
CREATE VIEW process_edge AS
SELECT p.capture_id, p.parent_id, parent.pid AS parent_pid, p.id AS child_id, p.pid AS child_pid
FROM process p
JOIN process parent ON parent.id = p.parent_id;

-- Every exec of every process instance.
CREATE VIEW process_exec AS
SELECT e.process_id, e.capture_id, e.pid, e.ppid, e.comm, e.ret, e.args, e.ts, e.time_text, e.line_id
FROM execsnoop_event e
WHERE e.process_id IS NOT NULL;

-- Lifetimes with readable times (UTC, ISO 8601).
CREATE VIEW process_lifetime AS
SELECT
  p.id, p.capture_id, p.pid, p.ppid, p.comm, p.args,
  strftime('%Y-%m-%dT%H:%M:%fZ', p.start_ts / 1e9, 'unixepoch') AS start_utc,
  strftime('%Y-%m-%dT%H:%M:%fZ', p.exit_ts / 1e9, 'unixepoch') AS exit_utc,
  p.lifetime_s,
  CASE WHEN p.seen_exit = 1 THEN 'exited' ELSE 'outlived capture or exit not captured' END AS status
FROM process p;
