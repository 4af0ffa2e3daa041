-- @name captures
-- @description The captures in the database with the host each was recorded on, their files, line counts, bad lines and process instances.
SELECT
  c.id,
  c.host,
  c.name,
  c.updated_at,
  (SELECT count(*) FROM source s WHERE s.capture_id = c.id AND s.state <> 'replaced') AS files,
  (SELECT count(*) FROM log_line l WHERE l.capture_id = c.id) AS lines,
  (SELECT count(*) FROM log_line l WHERE l.capture_id = c.id AND l.kind = 'bad') AS bad_lines,
  (SELECT count(*) FROM process p WHERE p.capture_id = c.id) AS processes
FROM capture c
ORDER BY c.id
