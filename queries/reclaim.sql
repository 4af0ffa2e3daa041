-- @name reclaim
-- @description Direct-reclaim stalls (drsnoop: a task had to free memory itself before allocating) of the process tree under PID (every instance of PID and all its descendants): time (UTC), process, thread, stall latency, pages reclaimed and free memory. Ordered by time.
-- @param pid integer The root process ID
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
  strftime('%Y-%m-%dT%H:%M:%fZ', e.ts / 1e9, 'unixepoch') AS time_utc,
  p.pid,
  e.tid,
  e.comm,
  e.lat_ms,
  e.pages,
  e.free_kb,
  e.process_id
FROM drsnoop_event e
JOIN process p ON p.id = e.process_id AND likelihood(p.capture_id = :capture, 0.99)
WHERE e.capture_id = :capture AND e.process_id IN (SELECT id FROM tree)
ORDER BY e.ts IS NULL, e.ts, e.line_id
