-- @name runq-wait
-- @description Run-queue wait of each session's processes (runqslower: a thread that waited on a CPU run queue longer than the tool's threshold before it ran): per session a total row (processes that waited, waits, microseconds), then one row per process, most wait first. runqslower prints thread IDs: a wait is counted for the process whose PID equals the TID (its main thread, or a single-threaded process); waits shorter than the threshold are not in the log. When runqslower was not captured, one status row per session says so. A session is the root itself (level 0) and, when the root is a server, each of its direct children (level 1): with sessions = auto the root is a server when it started before the capture (seen only as a parent) or when one of its direct children runs the root's own command and has children of its own (sshd's per-connection sshd), or two exec'd direct children with children of their own run the same command line (sshd-session). 
-- @param pid integer The root process ID (e.g. the sshd listener)
-- @param sessions text = auto Which processes are sessions: auto, children (the root's direct children) or root (the root alone)
WITH RECURSIVE
-- the capture's first and last instants seen: a time a process lacks is taken from here
bounds (cs, ce) AS (
  SELECT min(coalesce(start_ts, exec_ts, exit_ts)), max(coalesce(exit_ts, exec_ts, start_ts))
  FROM process
  WHERE capture_id = :capture
),
root AS (
  SELECT id, pid, comm, inferred FROM process WHERE capture_id = :capture AND pid = :pid
),
-- roots whose direct children are its sessions (a server: see the description)
listener (id) AS (
  SELECT r.id FROM root r
  WHERE :sessions = 'children'
    OR (:sessions <> 'root' AND (
      r.inferred = 1
      OR EXISTS (
        SELECT 1 FROM process c
        WHERE likelihood(c.capture_id = :capture, 0.99) AND c.parent_id = r.id AND c.comm = r.comm
          AND EXISTS (SELECT 1 FROM process g WHERE likelihood(g.capture_id = :capture, 0.99) AND g.parent_id = c.id)
      )
      -- or two exec'd children with children of their own run the same command line
      -- (a server whose per-connection program is another one: sshd-session)
      OR EXISTS (
        SELECT 1 FROM process c
        WHERE likelihood(c.capture_id = :capture, 0.99) AND c.parent_id = r.id AND c.seen_exec = 1 AND c.args IS NOT NULL
          AND EXISTS (SELECT 1 FROM process g WHERE likelihood(g.capture_id = :capture, 0.99) AND g.parent_id = c.id)
        GROUP BY c.args
        HAVING count(*) >= 2
      )
    ))
),
-- level 0: the root; level 1: its direct children when it is a server
session (id, level) AS (
  SELECT id, 0 FROM root
  UNION ALL
  SELECT c.id, 1 FROM listener l JOIN process c ON likelihood(c.capture_id = :capture, 0.99) AND c.parent_id = l.id
),
-- each session's window: its lifetime; an unknown start or exit is the capture's first or last instant
sw (sid, level, s0, s1) AS MATERIALIZED (
  SELECT s.id, s.level, coalesce(p.start_ts, b.cs),
    CASE WHEN coalesce(p.exit_ts, b.ce) < coalesce(p.start_ts, b.cs) THEN coalesce(p.start_ts, b.cs) ELSE coalesce(p.exit_ts, b.ce) END
  FROM session s JOIN process p ON likelihood(p.capture_id = :capture, 0.99) AND p.id = s.id CROSS JOIN bounds b
),
-- every process of each session's tree, with the session's direct child it descends from (head)
m (sid, id, parent_id, head, depth) AS (
  SELECT sid, sid, sid, sid, 0 FROM sw
  UNION ALL
  SELECT m.sid, c.id, c.parent_id, CASE WHEN m.depth = 0 THEN c.id ELSE m.head END, m.depth + 1
  FROM m JOIN process c ON likelihood(c.capture_id = :capture, 0.99) AND c.parent_id = m.id
  WHERE m.depth < 10000
),
-- lifetimes clipped to the session's window; unknown start or exit = the window's edge
-- (a process that exited before its session started, by the printed times, covers nothing)
iv (sid, id, parent_id, head, depth, a, b) AS MATERIALIZED (
  SELECT sid, id, parent_id, head, depth, a, CASE WHEN b < a THEN a ELSE b END
  FROM (
    SELECT m.sid, m.id, m.parent_id, m.head, m.depth,
      CASE WHEN coalesce(p.start_ts, w.s0) < w.s0 THEN w.s0 WHEN coalesce(p.start_ts, w.s0) > w.s1 THEN w.s1 ELSE coalesce(p.start_ts, w.s0) END AS a,
      CASE WHEN coalesce(p.exit_ts, w.s1) > w.s1 THEN w.s1 WHEN coalesce(p.exit_ts, w.s1) < w.s0 THEN w.s0 ELSE coalesce(p.exit_ts, w.s1) END AS b
    FROM m JOIN process p ON likelihood(p.capture_id = :capture, 0.99) AND p.id = m.id JOIN sw w ON w.sid = m.sid
  ) x
),
captured (n) AS (
  SELECT count(*) FROM source WHERE capture_id = :capture AND format = 'runqslower'
),
pw (sid, id, n, us, max_us) AS (
  SELECT iv.sid, iv.id, count(*), CAST(sum(e.lat_us) AS BIGINT), max(e.lat_us)
  FROM iv JOIN runqslower_event e ON likelihood(e.capture_id = :capture, 0.99) AND e.process_id = iv.id
  WHERE e.capture_id = :capture
  GROUP BY iv.sid, iv.id
),
rows (sid, kind, rank, id, processes, n, us, max_us, note) AS (
  SELECT w.sid, 'total', CAST(0 AS BIGINT), CAST(NULL AS BIGINT), count(pw.id), CAST(coalesce(sum(pw.n), 0) AS BIGINT), CAST(coalesce(sum(pw.us), 0) AS BIGINT), max(pw.max_us), 'runqslower'
  FROM sw w LEFT JOIN pw ON pw.sid = w.sid
  WHERE (SELECT n FROM captured) > 0
  GROUP BY w.sid
  UNION ALL
  SELECT pw.sid, 'process', row_number() OVER (PARTITION BY pw.sid ORDER BY pw.us DESC, pw.id), pw.id, CAST(1 AS BIGINT), pw.n, pw.us, pw.max_us, CAST(NULL AS TEXT)
  FROM pw
  UNION ALL
  SELECT w.sid, 'status', CAST(0 AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), 'tool not captured: no runqslower log in this capture'
  FROM sw w
  WHERE (SELECT n FROM captured) = 0
)
SELECT
  sp.pid AS session_pid,
  w.sid AS session_id,
  w.level,
  (w.s1 - w.s0 + 500000) / 1000000 AS wall_ms,
  r.kind,
  CASE WHEN r.kind = 'process' THEN r.rank ELSE NULL END AS rank,
  p.pid,
  r.id,
  coalesce(p.args, p.comm) AS command,
  p.comm,
  r.processes,
  r.n AS waits,
  r.us AS wait_us,
  CAST(r.us AS DOUBLE PRECISION) / 1000 AS wait_ms,
  CAST(r.max_us AS DOUBLE PRECISION) / 1000 AS max_ms,
  r.note
FROM rows r
JOIN sw w ON w.sid = r.sid
JOIN process sp ON likelihood(sp.capture_id = :capture, 0.99) AND sp.id = w.sid
LEFT JOIN process p ON likelihood(p.capture_id = :capture, 0.99) AND p.id = r.id
ORDER BY w.level, sp.start_ts, w.sid, CASE r.kind WHEN 'status' THEN 0 WHEN 'total' THEN 0 ELSE 1 END, r.rank
