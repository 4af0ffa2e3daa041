-- @name processes
-- @description Process instances of the capture whose command or arguments contain TEXT (all when omitted), with parent, start, lifetime and how each was seen.
-- @param text text = null Substring of comm or args to look for
SELECT
  p.id,
  p.pid,
  p.ppid,
  p.parent_id,
  p.comm,
  p.args,
  strftime('%Y-%m-%dT%H:%M:%fZ', p.start_ts / 1e9, 'unixepoch') AS start_utc,
  p.lifetime_s,
  p.exec_count,
  CASE
    WHEN p.inferred = 1 THEN 'inferred'
    WHEN p.fork_only = 1 THEN 'fork'
    WHEN p.seen_exec = 1 THEN 'exec'
    ELSE 'failed exec'
  END AS seen
FROM process p
WHERE p.capture_id = :capture
  -- lower(): LIKE ignores ASCII case on SQLite only
  AND (:text IS NULL OR lower(p.comm) LIKE '%' || lower(:text) || '%' OR lower(p.args) LIKE '%' || lower(:text) || '%')
ORDER BY p.start_ts IS NULL, p.start_ts, p.pid
