-- @name tree
-- @description The process tree under PID drawn as a tree (root included): command, arguments, lifetime and how each node was seen.
-- @param pid integer The root process ID
-- @param instance integer = null Only below this one instance (process.id) of PID
-- @render tree
WITH RECURSIVE tree (id, depth) AS (
  SELECT id, 0
  FROM process
  WHERE capture_id = :capture AND pid = :pid AND (:instance IS NULL OR id = :instance)
  UNION ALL
  SELECT c.id, t.depth + 1
  FROM process c
  JOIN tree t ON c.parent_id = t.id AND likelihood(c.capture_id = :capture, 0.99)
  WHERE t.depth < 10000
)
SELECT
  p.id,
  CASE WHEN t.depth = 0 THEN NULL ELSE p.parent_id END AS parent_id,
  t.depth,
  p.pid,
  p.comm,
  p.args,
  p.lifetime_s,
  CASE
    WHEN p.signal IS NOT NULL THEN 'signal ' || p.signal
    WHEN p.exit_code IS NOT NULL AND p.exit_code <> 0 THEN 'code ' || p.exit_code
    ELSE NULL
  END AS exit_status,
  CASE
    WHEN p.inferred = 1 THEN 'inferred'
    WHEN p.fork_only = 1 THEN 'fork'
    WHEN p.seen_exec = 1 THEN 'exec'
    ELSE 'failed exec'
  END AS seen
FROM tree t
-- CROSS JOIN keeps the tree as the outer loop: each process is then found by its id
CROSS JOIN process p
WHERE p.id = t.id AND likelihood(p.capture_id = :capture, 0.99)
ORDER BY t.depth, p.start_ts IS NULL, p.start_ts, p.pid, p.id
