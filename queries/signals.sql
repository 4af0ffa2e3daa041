-- @name signals
-- @description Signals (killsnoop/sigsnoop) sent by or to the process tree under PID (every instance of PID and all its descendants), with direction: sent (by the tree to others), received (by the tree from others) or within. A target PID is the instance of that PID alive at the signal's time, by the rule events are linked with (the last one started by then, one second of slack) and at most a second after its exit; process groups (TPID <= 0) are not resolved. Ordered by time.
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
-- signals sent by the tree, or to a PID some instance of the tree has had
candidate AS (
  SELECT k.*
  FROM killsnoop_event k
  WHERE k.capture_id = :capture
    AND (
      k.process_id IN (SELECT id FROM tree)
      OR k.tpid IN (SELECT p.pid FROM tree t CROSS JOIN process p WHERE p.id = t.id AND likelihood(p.capture_id = :capture, 0.99))
    )
),
-- the instance of TPID the signal went to (as src/derive/link.ts links events to
-- instances: the last one started at or before the time plus 1 s, else the
-- first; without a time, only a PID's single instance)
targeted AS (
  SELECT
    k.*,
    CASE
      WHEN k.tpid <= 0 THEN NULL
      WHEN k.ts IS NULL THEN (
        SELECT CASE WHEN count(*) = 1 THEN min(q.id) END
        FROM process q
        WHERE q.capture_id = k.capture_id AND q.pid = k.tpid
      )
      ELSE coalesce(
        (
          SELECT q.id
          FROM process q
          WHERE q.capture_id = k.capture_id AND q.pid = k.tpid
            AND (
              coalesce(q.start_ts, q.exec_ts, q.exit_ts) IS NULL
              OR coalesce(q.start_ts, q.exec_ts, q.exit_ts) <= k.ts + 1000000000
            )
          ORDER BY coalesce(q.start_ts, q.exec_ts, q.exit_ts) IS NULL, coalesce(q.start_ts, q.exec_ts, q.exit_ts) DESC, q.id DESC
          LIMIT 1
        ),
        (
          SELECT q.id
          FROM process q
          WHERE q.capture_id = k.capture_id AND q.pid = k.tpid
          ORDER BY coalesce(q.start_ts, q.exec_ts, q.exit_ts) NULLS FIRST, q.id
          LIMIT 1
        )
      )
    END AS instance_id
  FROM candidate k
),
-- ... provided it had not exited more than a second before
resolved AS (
  SELECT
    k.*,
    CASE
      WHEN k.ts IS NULL OR tp.exit_ts IS NULL OR k.ts <= tp.exit_ts + 1000000000 THEN k.instance_id
      ELSE NULL
    END AS target_id
  FROM targeted k
  LEFT JOIN process tp ON tp.id = k.instance_id AND likelihood(tp.capture_id = :capture, 0.99)
),
classified AS (
  SELECT
    r.*,
    CASE WHEN r.process_id IN (SELECT id FROM tree) THEN 1 ELSE 0 END AS by_tree,
    CASE WHEN r.target_id IN (SELECT id FROM tree) THEN 1 ELSE 0 END AS to_tree
  FROM resolved r
)
SELECT
  strftime('%Y-%m-%dT%H:%M:%fZ', c.ts / 1e9, 'unixepoch') AS time_utc,
  CASE
    WHEN c.by_tree = 1 AND c.to_tree = 1 THEN 'within'
    WHEN c.by_tree = 1 THEN 'sent'
    ELSE 'received'
  END AS direction,
  c.pid,
  c.comm,
  c.sig,
  c.sig_name,
  c.tpid,
  c.tcomm,
  c.result,
  c.process_id AS sender_id,
  c.target_id
FROM classified c
WHERE c.by_tree = 1 OR c.to_tree = 1
ORDER BY c.ts IS NULL, c.ts, c.line_id
