-- @name opens
-- @description Paths opened (opensnoop) by the process tree under PID (every instance of PID and all its descendants): per path, the number of opens, how many failed, how many process instances opened it and the first time (UTC). With ERRORS 1, only failed opens. Ordered by opens, most first.
-- @param pid integer The root process ID
-- @param errors integer = 0 1: count only failed opens (no descriptor or a non-zero errno)
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
tp (pid) AS (SELECT DISTINCT p.pid FROM tree t CROSS JOIN process p WHERE p.id = t.id AND likelihood(p.capture_id = :capture, 0.99)),
opened (path, ts, process_id, failed) AS (
  SELECT
    e.path,
    e.ts,
    e.process_id,
    CASE WHEN e.fd IS NULL OR coalesce(e.err, 0) <> 0 THEN 1 ELSE 0 END
  FROM opensnoop_event e
  WHERE e.capture_id = :capture AND e.pid IN (SELECT pid FROM tp) AND e.process_id IN (SELECT id FROM tree)
  UNION ALL
  -- thread-only rows (opensnoop -t): a second index lookup rather than an OR, which would scan
  SELECT
    e.path,
    e.ts,
    e.process_id,
    CASE WHEN e.fd IS NULL OR coalesce(e.err, 0) <> 0 THEN 1 ELSE 0 END
  FROM opensnoop_event e
  WHERE e.capture_id = :capture AND e.pid IS NULL AND e.tid IN (SELECT pid FROM tp) AND e.process_id IN (SELECT id FROM tree)
)
SELECT
  o.path,
  count(*) AS opens,
  sum(o.failed) AS failures,
  count(DISTINCT o.process_id) AS processes,
  strftime('%Y-%m-%dT%H:%M:%fZ', min(o.ts) / 1e9, 'unixepoch') AS first_utc
FROM opened o
WHERE :errors = 0 OR o.failed = 1
GROUP BY o.path
ORDER BY opens DESC, o.path IS NULL, o.path
