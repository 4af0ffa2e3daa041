-- @name connections
-- @description TCP connections of the process tree under PID (root included): handshake latency, lifetime, bytes and retransmits. A connection belongs to the tree when a PID seen on its tcpstates transitions or in its tcplife row is a process of the tree at that time; `evidence` says which matched (on loopback the peer's PID often shows on the other side's transitions), `others` the PIDs outside the tree. Without PID: every connection.
-- @param pid integer = null The root process ID (e.g. the sshd listener); none: all connections
WITH RECURSIVE tree (id, depth) AS (
  SELECT id, 0
  FROM process
  WHERE capture_id = :capture AND pid = :pid
  UNION ALL
  SELECT c.id, t.depth + 1
  FROM process c
  JOIN tree t ON c.parent_id = t.id AND likelihood(c.capture_id = :capture, 0.99)
  WHERE t.depth < 10000
),
matched (connection_id, who) AS (
  SELECT e.connection_id, e.comm || ' ' || e.pid || ' (' || string_agg(e.evidence, ', ' ORDER BY e.evidence NULLS FIRST) || ')'
  FROM (
    SELECT cp.connection_id, coalesce(cp.comm, '?') AS comm, cp.pid, cp.evidence
    FROM tcp_connection_pid cp
    WHERE cp.capture_id = :capture
      AND (:pid IS NULL OR cp.process_id IN (SELECT id FROM tree))
    ORDER BY cp.evidence NULLS FIRST
  ) e
  GROUP BY e.connection_id, e.comm, e.pid
)
SELECT
  c.id,
  c.side,
  c.laddr || ':' || c.lport AS local,
  c.raddr || ':' || c.rport AS remote,
  c.handshake_ms,
  strftime('%Y-%m-%dT%H:%M:%fZ', coalesce(c.established_ts, c.start_ts) / 1e9, 'unixepoch') AS time_utc,
  c.lifetime_ms,
  c.tx_kb,
  c.rx_kb,
  c.retransmits,
  c.loss_probes,
  c.states,
  (
    SELECT string_agg(m.who, ', ' ORDER BY m.who NULLS FIRST)
    FROM (SELECT DISTINCT who FROM matched WHERE connection_id = c.id ORDER BY who NULLS FIRST) m
  ) AS evidence,
  (
    SELECT string_agg(o.who, ', ' ORDER BY o.who NULLS FIRST)
    FROM (
      SELECT DISTINCT coalesce(cp.comm, '?') || ' ' || cp.pid AS who
      FROM tcp_connection_pid cp
      WHERE cp.connection_id = c.id AND likelihood(cp.capture_id = :capture, 0.99)
        AND :pid IS NOT NULL
        AND NOT (cp.process_id IS NOT NULL AND cp.process_id IN (SELECT id FROM tree))
      ORDER BY who NULLS FIRST
    ) o
  ) AS others
FROM tcp_connection c
WHERE c.capture_id = :capture
  AND c.id IN (SELECT connection_id FROM matched)
ORDER BY c.start_ts NULLS FIRST, c.first_line_id, c.id
