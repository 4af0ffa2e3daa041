-- @name io
-- @description Block I/O (biosnoop) of the process tree under PID (every instance of PID and all its descendants): one row per process instance that did I/O, with the number of I/Os, reads and writes (rwbs R... / W..., a preflush F before the operation allowed, e.g. FWS), total bytes, average and maximum latency, and the disks. Ordered by bytes, most first.
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
tp (pid) AS (SELECT DISTINCT p.pid FROM tree t CROSS JOIN process p WHERE p.id = t.id AND likelihood(p.capture_id = :capture, 0.99)),
io (process_id, disk, rwbs, bytes, lat_ms) AS (
  SELECT e.process_id, e.disk, e.rwbs, e.bytes, e.lat_ms
  FROM biosnoop_event e
  WHERE e.capture_id = :capture AND e.pid IN (SELECT pid FROM tp) AND e.process_id IN (SELECT id FROM tree)
),
disk_list (process_id, disks) AS (
  SELECT d.process_id, string_agg(d.disk, ',' ORDER BY d.disk)
  FROM (SELECT DISTINCT process_id, disk FROM io WHERE disk IS NOT NULL) d
  GROUP BY d.process_id
)
SELECT
  p.id,
  p.pid,
  p.comm,
  p.args,
  count(*) AS ios,
  sum(CASE WHEN io.rwbs LIKE 'R%' OR io.rwbs LIKE 'FR%' THEN 1 ELSE 0 END) AS reads,
  sum(CASE WHEN io.rwbs LIKE 'W%' OR io.rwbs LIKE 'FW%' THEN 1 ELSE 0 END) AS writes,
  sum(io.bytes) AS bytes,
  avg(io.lat_ms) AS avg_lat_ms,
  max(io.lat_ms) AS max_lat_ms,
  dl.disks
FROM io
JOIN process p ON p.id = io.process_id AND likelihood(p.capture_id = :capture, 0.99)
LEFT JOIN disk_list dl ON dl.process_id = io.process_id
GROUP BY p.id, p.pid, p.comm, p.args, dl.disks
ORDER BY bytes DESC NULLS LAST, p.pid, p.id
