-- @name ancestors
-- @description The chain of parents of PID up to the root (for every instance of that PID in the capture), nearest first.
-- @param pid integer The process whose ancestry to show
WITH RECURSIVE up (id, parent_id, depth, of_id) AS (
  SELECT id, parent_id, 0, id
  FROM process
  WHERE capture_id = :capture AND pid = :pid
  UNION ALL
  SELECT p.id, p.parent_id, u.depth + 1, u.of_id
  FROM process p
  JOIN up u ON p.id = u.parent_id AND likelihood(p.capture_id = :capture, 0.99)
  WHERE u.depth < 10000
)
SELECT
  u.of_id AS instance,
  u.depth,
  p.id,
  p.pid,
  p.ppid,
  p.comm,
  p.args,
  strftime('%Y-%m-%dT%H:%M:%fZ', p.start_ts / 1e9, 'unixepoch') AS start_utc,
  p.lifetime_s,
  p.inferred
FROM up u
-- CROSS JOIN keeps the chain as the outer loop: each process is then found by its id
CROSS JOIN process p
WHERE p.id = u.id AND likelihood(p.capture_id = :capture, 0.99)
ORDER BY u.of_id, u.depth
