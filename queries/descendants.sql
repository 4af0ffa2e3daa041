-- @name descendants
-- @description Every process instance descending from PID (from every instance of that PID in the capture), with depth, command, arguments, start, exit and lifetime; forks without exec included. Ordered by start time.
-- @param pid integer The root process ID (e.g. the sshd listener)
-- @param instance integer = null Only below this one instance (process.id) of PID
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
  t.depth,
  p.pid,
  p.ppid,
  p.comm,
  p.args,
  strftime('%Y-%m-%dT%H:%M:%fZ', p.start_ts / 1e9, 'unixepoch') AS start_utc,
  strftime('%Y-%m-%dT%H:%M:%fZ', p.exit_ts / 1e9, 'unixepoch') AS exit_utc,
  p.lifetime_s,
  CASE
    WHEN p.signal IS NOT NULL THEN 'signal ' || p.signal
    WHEN p.exit_code IS NOT NULL THEN 'code ' || p.exit_code
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
WHERE p.id = t.id AND likelihood(p.capture_id = :capture, 0.99) AND t.depth > 0
ORDER BY p.start_ts IS NULL, p.start_ts, p.pid, p.id
