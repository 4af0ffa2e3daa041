-- @name time-split
-- @description Where each session's wall time goes: the subtrees under it (one per direct child) ranked by the wall time they cover, the union of their processes' lifetimes within the session, in ms and as a share of the session's wall time. A session is the root itself (level 0) and, when the root is a server, each of its direct children (level 1): with sessions = auto the root is a server when it started before the capture (seen only as a parent) or when one of its direct children runs the root's own command and has children of its own (sshd's per-connection sshd), or two exec'd direct children with children of their own run the same command line (sshd-session). Lifetimes are clipped to the session (start to exit): an unknown start or exit is the session's edge, and a session's unknown start or exit the capture's first or last instant seen. kind: session (its wall time; start_known 0: it started before the capture, exit_known 0: no exit seen), subtree (rank 1 covers most), itself (the session with none of its children running), across (level 0 only: the subtrees of all level-1 sessions grouped by command name, ms summed, share of the sessions' summed wall time). ms are rounded from ns, which are exact.
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
-- the intervals to unite: each direct child's subtree (grp = head), and all of them together (grp = sid)
g (sid, grp, a, b) AS (
  SELECT sid, head, a, b FROM iv WHERE depth > 0 AND b > a
  UNION ALL
  SELECT sid, sid, a, b FROM iv WHERE depth > 0 AND b > a
),
-- union of intervals: sorted by start, a new island begins after every gap
ord AS (
  SELECT sid, grp, a, b,
    max(b) OVER (PARTITION BY sid, grp ORDER BY a, b ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
  FROM g
),
isl AS (
  SELECT sid, grp, a, b,
    sum(CASE WHEN reach IS NULL OR a > reach THEN 1 ELSE 0 END) OVER (PARTITION BY sid, grp ORDER BY a, b ROWS UNBOUNDED PRECEDING) AS k
  FROM ord
),
cov (sid, grp, ns) AS MATERIALIZED (
  SELECT sid, grp, CAST(sum(e - s) AS BIGINT) FROM (SELECT sid, grp, k, min(a) AS s, max(b) AS e FROM isl GROUP BY sid, grp, k) u GROUP BY sid, grp
),
sizes (sid, head, n) AS (
  SELECT sid, head, count(*) FROM iv WHERE depth > 0 GROUP BY sid, head
),
-- across the level-1 sessions: the subtrees grouped by command name
across (comm, sessions, ns, n) AS (
  SELECT p.comm, count(DISTINCT z.sid), CAST(sum(coalesce(c.ns, 0)) AS BIGINT), CAST(sum(z.n) AS BIGINT)
  FROM sizes z
  JOIN sw w ON w.sid = z.sid AND w.level = 1
  JOIN process p ON likelihood(p.capture_id = :capture, 0.99) AND p.id = z.head
  LEFT JOIN cov c ON c.sid = z.sid AND c.grp = z.head
  GROUP BY p.comm
),
rows (sid, rank, kind, id, label, ns, processes, sessions) AS (
  -- the session itself
  SELECT w.sid, CAST(NULL AS BIGINT), 'session', w.sid, CAST(NULL AS TEXT), w.s1 - w.s0, (SELECT count(*) FROM iv WHERE iv.sid = w.sid), CAST(NULL AS BIGINT)
  FROM sw w
  UNION ALL
  -- each subtree under it
  SELECT z.sid,
    row_number() OVER (PARTITION BY z.sid ORDER BY coalesce(c.ns, 0) DESC, p.start_ts, z.head),
    'subtree', z.head, CAST(NULL AS TEXT), coalesce(c.ns, 0), z.n, CAST(NULL AS BIGINT)
  FROM sizes z JOIN process p ON likelihood(p.capture_id = :capture, 0.99) AND p.id = z.head LEFT JOIN cov c ON c.sid = z.sid AND c.grp = z.head
  UNION ALL
  -- the session's time with none of its children running
  SELECT w.sid, CAST(NULL AS BIGINT), 'itself', w.sid, CAST(NULL AS TEXT), (w.s1 - w.s0) - coalesce(c.ns, 0), 1, CAST(NULL AS BIGINT)
  FROM sw w LEFT JOIN cov c ON c.sid = w.sid AND c.grp = w.sid
  UNION ALL
  -- level 0: the level-1 sessions' subtrees grouped by command name
  SELECT w.sid, row_number() OVER (ORDER BY a.ns DESC, a.comm), 'across', CAST(NULL AS BIGINT), a.comm, a.ns, a.n, a.sessions
  FROM sw w CROSS JOIN across a
  WHERE w.level = 0
),
-- the level-1 sessions' summed wall time
level1 (ns) AS (
  SELECT CAST(sum(s1 - s0) AS BIGINT) FROM sw WHERE level = 1
)
SELECT
  sp.pid AS session_pid,
  w.sid AS session_id,
  w.level,
  (w.s1 - w.s0 + 500000) / 1000000 AS wall_ms,
  r.kind,
  r.rank,
  p.pid,
  r.id,
  coalesce(p.args, p.comm, r.label) AS command,
  coalesce(p.comm, r.label) AS comm,
  p.fork_only,
  -- 0: never seen starting (a placeholder, named only as its children's parent: it started before the capture)
  CASE WHEN p.id IS NULL THEN NULL WHEN p.start_ts IS NULL THEN 0 ELSE 1 END AS start_known,
  -- 0: no exit seen (it outlived the capture, or its exit was not captured)
  CASE WHEN p.id IS NULL THEN NULL WHEN p.exit_ts IS NULL THEN 0 ELSE 1 END AS exit_known,
  r.processes,
  r.sessions,
  (r.ns + 500000) / 1000000 AS ms,
  -- what share is of: the session's wall time, or (across) the sessions' summed wall time
  CASE WHEN r.kind = 'across' THEN ((SELECT ns FROM level1) + 500000) / 1000000 ELSE (w.s1 - w.s0 + 500000) / 1000000 END AS of_ms,
  CASE
    WHEN r.kind = 'across' THEN CAST(r.ns AS DOUBLE PRECISION) / nullif((SELECT ns FROM level1), 0)
    WHEN w.s1 > w.s0 THEN CAST(r.ns AS DOUBLE PRECISION) / (w.s1 - w.s0)
    ELSE NULL
  END AS share,
  r.ns
FROM rows r
JOIN sw w ON w.sid = r.sid
JOIN process sp ON likelihood(sp.capture_id = :capture, 0.99) AND sp.id = w.sid
LEFT JOIN process p ON likelihood(p.capture_id = :capture, 0.99) AND p.id = r.id
ORDER BY w.level, sp.start_ts, w.sid,
  CASE r.kind WHEN 'session' THEN 0 WHEN 'subtree' THEN 1 WHEN 'itself' THEN 2 ELSE 3 END, r.rank
