-- @name children
-- @description The direct children of PID (of every instance of that PID in the capture), with command, arguments, start and lifetime.
-- @param pid integer The parent process ID
SELECT
  c.id,
  c.pid,
  c.ppid,
  c.comm,
  c.args,
  strftime('%Y-%m-%dT%H:%M:%fZ', c.start_ts / 1e9, 'unixepoch') AS start_utc,
  c.lifetime_s,
  CASE
    WHEN c.inferred = 1 THEN 'inferred'
    WHEN c.fork_only = 1 THEN 'fork'
    WHEN c.seen_exec = 1 THEN 'exec'
    ELSE 'failed exec'
  END AS seen
FROM process parent
JOIN process c ON c.parent_id = parent.id AND likelihood(c.capture_id = :capture, 0.99)
WHERE parent.capture_id = :capture AND parent.pid = :pid
ORDER BY c.start_ts IS NULL, c.start_ts, c.pid
