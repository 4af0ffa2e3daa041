-- @name lifetimes
-- @description Descendants of PID ordered by lifetime, longest first; processes whose exit was not captured (outlived the capture) come last, marked as unknown.
-- @param pid integer The root process ID
WITH RECURSIVE tree (id, depth) AS (
  SELECT id, 0
  FROM process
  WHERE capture_id = :capture AND pid = :pid
  UNION ALL
  SELECT c.id, t.depth + 1
  FROM process c
  JOIN tree t ON c.parent_id = t.id AND likelihood(c.capture_id = :capture, 0.99)
  WHERE t.depth < 10000
)
SELECT
  p.id,
  t.depth,
  p.pid,
  p.comm,
  p.args,
  p.lifetime_s,
  CASE WHEN p.seen_exit = 1 THEN 'exited' ELSE 'unknown: exit not captured' END AS lifetime_status,
  strftime('%Y-%m-%dT%H:%M:%fZ', p.start_ts / 1e9, 'unixepoch') AS start_utc
FROM tree t
-- CROSS JOIN keeps the tree as the outer loop: each process is then found by its id
CROSS JOIN process p
WHERE p.id = t.id AND likelihood(p.capture_id = :capture, 0.99) AND t.depth > 0
ORDER BY p.lifetime_s IS NULL, p.lifetime_s DESC, p.pid
