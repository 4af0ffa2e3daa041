-- @name hosts
-- @description Every host with captures in the store (many, where hosts push to one PostgreSQL with tracedb push): its captures, the time they span (UTC: the first process start and the last process exit or start seen), process instances, log lines and lines that did not parse. A fleet question: it reads every capture, so --capture and --host do not apply.
WITH per_capture AS (
  SELECT
    c.host,
    c.name,
    (SELECT min(coalesce(p.start_ts, p.exec_ts, p.exit_ts)) FROM process p WHERE p.capture_id = c.id) AS first_ts,
    (SELECT max(coalesce(p.exit_ts, p.exec_ts, p.start_ts)) FROM process p WHERE p.capture_id = c.id) AS last_ts,
    (SELECT count(*) FROM process p WHERE p.capture_id = c.id) AS processes,
    (SELECT count(*) FROM log_line l WHERE l.capture_id = c.id) AS lines,
    (SELECT count(*) FROM log_line l WHERE l.capture_id = c.id AND l.kind = 'bad') AS bad_lines
  FROM capture c
)
SELECT
  host,
  count(*) AS captures,
  string_agg(name, ', ' ORDER BY name) AS names,
  strftime('%Y-%m-%dT%H:%M:%fZ', min(first_ts) / 1e9, 'unixepoch') AS first_utc,
  strftime('%Y-%m-%dT%H:%M:%fZ', max(last_ts) / 1e9, 'unixepoch') AS last_utc,
  sum(processes) AS processes,
  sum(lines) AS lines,
  sum(bad_lines) AS bad_lines
FROM per_capture
GROUP BY host
ORDER BY host NULLS FIRST
