-- @name critical-path
-- @description The critical path of each session: from the session down, at each level the child whose subtree covers most of its parent's time (the union of the subtree's lifetimes within the parent's lifetime), down to a process none of whose children covers any of its time: the leaf that did the work. step 0 is the session (ms = its wall time); share is of the session's wall time, of_parent of the parent's lifetime. A session is the root itself (level 0) and, when the root is a server, each of its direct children (level 1): with sessions = auto the root is a server when it started before the capture (seen only as a parent) or when one of its direct children runs the root's own command and has children of its own (sshd's per-connection sshd), or two exec'd direct children with children of their own run the same command line (sshd-session). Lifetimes are clipped to the session (start to exit): an unknown start or exit is the session's edge, and a session's unknown start or exit the capture's first or last instant seen. ms are rounded from ns, which are exact.
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
-- every (ancestor, descendant) pair of each session's tree, below the session
cl (sid, anc, id, depth) AS MATERIALIZED (
  SELECT sid, id, id, 0 FROM iv WHERE depth > 0
  UNION ALL
  SELECT cl.sid, cl.anc, c.id, cl.depth + 1
  FROM cl JOIN process c ON likelihood(c.capture_id = :capture, 0.99) AND c.parent_id = cl.id
  WHERE cl.depth < 10000
),
-- each subtree's lifetimes, clipped to the lifetime of the subtree's parent
g (sid, grp, a, b) AS (
  SELECT cl.sid, cl.anc,
    CASE WHEN d.a < pp.a THEN pp.a WHEN d.a > pp.b THEN pp.b ELSE d.a END,
    CASE WHEN d.b > pp.b THEN pp.b WHEN d.b < pp.a THEN pp.a ELSE d.b END
  FROM cl
  JOIN iv n ON n.sid = cl.sid AND n.id = cl.anc
  JOIN iv pp ON pp.sid = cl.sid AND pp.id = n.parent_id
  JOIN iv d ON d.sid = cl.sid AND d.id = cl.id
),
-- union of intervals per group: sorted by start, a new island begins after every gap
ord AS (
  SELECT sid, grp, a, b,
    max(b) OVER (PARTITION BY sid, grp ORDER BY a, b ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
  FROM g
  WHERE b > a
),
isl AS (
  SELECT sid, grp, a, b,
    sum(CASE WHEN reach IS NULL OR a > reach THEN 1 ELSE 0 END) OVER (PARTITION BY sid, grp ORDER BY a, b ROWS UNBOUNDED PRECEDING) AS k
  FROM ord
),
cov (sid, grp, ns) AS MATERIALIZED (
  SELECT sid, grp, CAST(sum(e - s) AS BIGINT) FROM (SELECT sid, grp, k, min(a) AS s, max(b) AS e FROM isl GROUP BY sid, grp, k) u GROUP BY sid, grp
),
-- each parent's child that covers most of it
best (sid, parent_id, id, ns, rn) AS MATERIALIZED (
  SELECT n.sid, n.parent_id, n.id, coalesce(c.ns, 0),
    row_number() OVER (PARTITION BY n.sid, n.parent_id ORDER BY coalesce(c.ns, 0) DESC, n.a, n.id)
  FROM iv n LEFT JOIN cov c ON c.sid = n.sid AND c.grp = n.id
  WHERE n.depth > 0
),
path (sid, step, id, ns, parent_ns) AS (
  SELECT sid, 0, sid, s1 - s0, s1 - s0 FROM sw
  UNION ALL
  SELECT path.sid, path.step + 1, b.id, b.ns, pv.b - pv.a
  FROM path
  JOIN best b ON b.sid = path.sid AND b.parent_id = path.id AND b.rn = 1 AND b.ns > 0
  JOIN iv pv ON pv.sid = path.sid AND pv.id = path.id
  WHERE path.step < 10000
)
SELECT
  sp.pid AS session_pid,
  w.sid AS session_id,
  w.level,
  (w.s1 - w.s0 + 500000) / 1000000 AS wall_ms,
  path.step,
  p.pid,
  p.id,
  coalesce(p.args, p.comm) AS command,
  p.comm,
  p.fork_only,
  (path.ns + 500000) / 1000000 AS ms,
  CASE WHEN w.s1 > w.s0 THEN CAST(path.ns AS DOUBLE PRECISION) / (w.s1 - w.s0) ELSE NULL END AS share,
  CASE WHEN path.parent_ns > 0 THEN CAST(path.ns AS DOUBLE PRECISION) / path.parent_ns ELSE NULL END AS of_parent,
  path.ns
FROM path
JOIN sw w ON w.sid = path.sid
JOIN process sp ON likelihood(sp.capture_id = :capture, 0.99) AND sp.id = w.sid
JOIN process p ON likelihood(p.capture_id = :capture, 0.99) AND p.id = path.id
ORDER BY w.level, sp.start_ts, w.sid, path.step
