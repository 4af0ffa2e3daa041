-- @name sessions
-- @description The sessions of a daemon across every host and capture, longest wall time first: a session is a process instance running COMM whose parent runs COMM too, forked by the daemon's top instance (sshd's per-connection child; its own privilege-separated child is part of the session, not another one). By command, not PID, since PIDs mean nothing across hosts. Per session: host, capture, PID, start (UTC), wall time (its lifetime, s; unknown when it outlived its capture: those come last), the process instances below it and how it ended. A fleet question: it reads every capture, so --capture and --host do not apply.
-- @param comm text The daemon's command name (comm), e.g. sshd
-- @param limit integer = 20 At most this many sessions (-1: all)
WITH RECURSIVE session AS (
  SELECT c.host, c.name AS capture, p.capture_id, p.id, p.pid, p.start_ts, p.lifetime_s, p.exit_code, p.signal, p.args
  FROM process p
  JOIN process parent ON parent.id = p.parent_id AND likelihood(parent.capture_id = p.capture_id, 0.99)
  LEFT JOIN process grandparent ON grandparent.id = parent.parent_id AND likelihood(grandparent.capture_id = p.capture_id, 0.99)
  JOIN capture c ON c.id = p.capture_id
  WHERE p.comm = :comm AND parent.comm = :comm AND coalesce(grandparent.comm, '') <> :comm
  ORDER BY p.lifetime_s IS NULL, p.lifetime_s DESC, c.host NULLS FIRST, c.name, p.start_ts NULLS FIRST, p.id
  LIMIT CASE WHEN :limit < 0 THEN 9223372036854775807 ELSE :limit END
),
-- the processes below each session (ids are unique per capture)
below (session_capture, session_id, id, depth) AS (
  SELECT capture_id, id, id, 0 FROM session
  UNION ALL
  SELECT b.session_capture, b.session_id, c.id, b.depth + 1
  FROM below b
  JOIN process c ON c.parent_id = b.id AND likelihood(c.capture_id = b.session_capture, 0.99)
  WHERE b.depth < 10000
),
sizes (session_capture, session_id, n) AS (
  SELECT session_capture, session_id, count(*) - 1 FROM below GROUP BY session_capture, session_id
)
SELECT
  s.host,
  s.capture,
  s.pid,
  strftime('%Y-%m-%dT%H:%M:%fZ', s.start_ts / 1e9, 'unixepoch') AS start_utc,
  s.lifetime_s AS wall_s,
  z.n AS processes,
  CASE
    WHEN s.signal IS NOT NULL THEN 'signal ' || s.signal
    WHEN s.exit_code IS NOT NULL THEN 'code ' || s.exit_code
    ELSE 'still running at the capture end'
  END AS ended,
  s.args
FROM session s
JOIN sizes z ON z.session_capture = s.capture_id AND z.session_id = s.id
ORDER BY s.lifetime_s IS NULL, s.lifetime_s DESC, s.host NULLS FIRST, s.capture, s.start_ts NULLS FIRST, s.id
