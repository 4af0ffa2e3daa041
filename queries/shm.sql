-- @name shm
-- @description System V shared-memory calls (shmsnoop: shmget, shmat, shmdt, shmctl) of the process tree under PID (every instance of PID and all its descendants): time (UTC; -T prints seconds since the tool started: time_text, and a time only when that start is known), process, syscall, return value, segment ID and arguments. A call without a time is attributed only when its PID has a single instance in the capture. Ordered by time, else in log order.
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
),
-- the tree's PIDs: each tool's rows are reached through its (capture_id, pid) index
tp (pid) AS (SELECT DISTINCT p.pid FROM tree t CROSS JOIN process p WHERE p.id = t.id AND likelihood(p.capture_id = :capture, 0.99))
SELECT
  strftime('%Y-%m-%dT%H:%M:%fZ', e.ts / 1e9, 'unixepoch') AS time_utc,
  e.time_text,
  p.pid,
  e.comm,
  e.sys,
  e.ret,
  e.ret_value,
  e.shmid,
  e.args,
  e.process_id
FROM shmsnoop_event e
JOIN process p ON p.id = e.process_id AND likelihood(p.capture_id = :capture, 0.99)
WHERE e.capture_id = :capture AND e.pid IN (SELECT pid FROM tp) AND e.process_id IN (SELECT id FROM tree)
ORDER BY e.ts IS NULL, e.ts, e.line_id
