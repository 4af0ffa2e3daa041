-- @name self-time
-- @description Self time of every process of each session: its lifetime minus the union of its children's lifetimes (each clipped to its own), the time it ran with none of its children running: the work, not the waiting on children. Largest first within each session. A session is the root itself (level 0) and, when the root is a server, each of its direct children (level 1): with sessions = auto the root is a server when it started before the capture (seen only as a parent) or when one of its direct children runs the root's own command and has children of its own (sshd's per-connection sshd), or two exec'd direct children with children of their own run the same command line (sshd-session). Lifetimes are clipped to the session (start to exit): an unknown start or exit is the session's edge, and a session's unknown start or exit the capture's first or last instant seen. ms are rounded from ns, which are exact.
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
-- each process's children, clipped to its own lifetime
g (sid, grp, a, b) AS (
  SELECT c.sid, c.parent_id,
    CASE WHEN c.a < pp.a THEN pp.a WHEN c.a > pp.b THEN pp.b ELSE c.a END,
    CASE WHEN c.b > pp.b THEN pp.b WHEN c.b < pp.a THEN pp.a ELSE c.b END
  FROM iv c JOIN iv pp ON pp.sid = c.sid AND pp.id = c.parent_id
  WHERE c.depth > 0
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
kids (sid, id, n) AS (
  SELECT sid, parent_id, count(*) FROM iv WHERE depth > 0 GROUP BY sid, parent_id
),
s (sid, id, depth, life, children, self) AS (
  SELECT n.sid, n.id, n.depth, n.b - n.a, coalesce(c.ns, 0), (n.b - n.a) - coalesce(c.ns, 0)
  FROM iv n LEFT JOIN cov c ON c.sid = n.sid AND c.grp = n.id
)
SELECT
  sp.pid AS session_pid,
  w.sid AS session_id,
  w.level,
  (w.s1 - w.s0 + 500000) / 1000000 AS wall_ms,
  row_number() OVER (PARTITION BY w.sid ORDER BY s.self DESC, p.start_ts, p.id) AS rank,
  p.pid,
  p.id,
  s.depth,
  coalesce(p.args, p.comm) AS command,
  p.comm,
  p.fork_only,
  coalesce(k.n, 0) AS children,
  (s.life + 500000) / 1000000 AS lifetime_ms,
  (s.children + 500000) / 1000000 AS children_ms,
  (s.self + 500000) / 1000000 AS ms,
  CASE WHEN w.s1 > w.s0 THEN CAST(s.self AS DOUBLE PRECISION) / (w.s1 - w.s0) ELSE NULL END AS share,
  s.self AS ns
FROM s
JOIN sw w ON w.sid = s.sid
JOIN process sp ON likelihood(sp.capture_id = :capture, 0.99) AND sp.id = w.sid
JOIN process p ON likelihood(p.capture_id = :capture, 0.99) AND p.id = s.id
LEFT JOIN kids k ON k.sid = s.sid AND k.id = s.id
ORDER BY w.level, sp.start_ts, w.sid, rank
