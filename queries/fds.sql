-- @name fds
-- @description File descriptors passed over unix sockets (sofdsnoop: SCM_RIGHTS SEND and RECV) by the process tree under PID (every instance of PID and all its descendants): time (UTC; -T prints seconds since the tool started: time_text, and a time only when that start is known), action, thread, socket, descriptor and what it pointed to. sofdsnoop prints thread IDs only: a row is attributed when its TID is the PID of an instance (the main thread), and, without a time, only when that PID has a single instance in the capture. Ordered by time, else in log order.
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
  e.time_text,
  e.action,
  e.tid,
  e.comm,
  e.sock_fd,
  e.socket,
  e.fd,
  e.name,
  e.process_id
FROM sofdsnoop_event e
WHERE e.capture_id = :capture AND e.process_id IN (SELECT id FROM tree)
ORDER BY e.ts IS NULL, e.ts, e.line_id
