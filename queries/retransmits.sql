-- @name retransmits
-- @description TCP retransmits and tail loss probes (tcpretrans, -l) in time order, each with the connection it belonged to when tcpstates saw it; per-flow totals of tcpretrans -c are listed after the events (kind = count).
-- @param port integer = null Only flows with this local or remote port
SELECT
  strftime('%Y-%m-%dT%H:%M:%fZ', r.ts / 1e9, 'unixepoch') AS time_utc,
  CASE
    WHEN r.mode = 'count' THEN 'count'
    WHEN r.type = 'L' THEN 'loss probe'
    ELSE 'retransmit'
  END AS kind,
  r.pid,
  r.laddr || ':' || r.lport AS local,
  r.raddr || ':' || r.rport AS remote,
  r.state,
  CASE WHEN r.mode = 'count' THEN r.count ELSE 1 END AS count,
  (
    SELECT c.id
    FROM tcp_connection c
    WHERE c.capture_id = r.capture_id
      AND c.laddr = r.laddr AND c.lport = r.lport AND c.raddr = r.raddr AND c.rport = r.rport
      AND (r.ts IS NULL OR c.start_ts IS NULL OR c.start_ts <= r.ts + 2000000000)
      AND (r.ts IS NULL OR c.closed_ts IS NULL OR c.closed_ts >= r.ts - 2000000000)
    ORDER BY c.start_ts DESC NULLS LAST
    LIMIT 1
  ) AS connection_id,
  r.line_id
FROM tcpretrans_event r
WHERE r.capture_id = :capture
  AND (:port IS NULL OR r.lport = :port OR r.rport = :port)
ORDER BY r.mode = 'count', r.ts NULLS FIRST, r.line_id
