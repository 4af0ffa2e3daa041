-- @name handshakes
-- @description TCP connections with their handshake latency, once per side (server: time in SYN_RECV, client: time in SYN_SENT, the MS of the -> ESTABLISHED transition), with lifetime and bytes from tcplife and the PIDs seen. Needs tcpstates (-T); tcplife adds lifetime and bytes.
-- @param port integer = null Only connections with this local or remote port (e.g. 22)
SELECT
  c.id,
  c.side,
  c.laddr || ':' || c.lport AS local,
  c.raddr || ':' || c.rport AS remote,
  c.handshake_ms,
  -- from the transitions, not their times: a log without a time column
  -- (bcc tcpstates without -T) has an ESTABLISHED transition but no established_ts
  CASE
    WHEN c.established_ts IS NOT NULL OR '>' || c.states || '>' LIKE '%>ESTABLISHED>%' THEN 'established'
    WHEN c.side = 'unknown' THEN 'opened before the capture'
    WHEN c.closed_ts IS NOT NULL OR c.states LIKE '%>CLOSE' THEN 'failed: ' || c.states
    ELSE 'handshake not finished in the capture'
  END AS result,
  strftime('%Y-%m-%dT%H:%M:%fZ', coalesce(c.established_ts, c.start_ts) / 1e9, 'unixepoch') AS time_utc,
  c.lifetime_ms,
  c.tx_kb,
  c.rx_kb,
  c.retransmits,
  (
    SELECT string_agg(s.who, ', ' ORDER BY s.who NULLS FIRST)
    FROM (
      SELECT DISTINCT coalesce(cp.comm, '?') || ' ' || cp.pid AS who
      FROM tcp_connection_pid cp
      WHERE cp.connection_id = c.id AND likelihood(cp.capture_id = :capture, 0.99)
      ORDER BY who NULLS FIRST
    ) s
  ) AS pids
FROM tcp_connection c
WHERE c.capture_id = :capture
  AND (:port IS NULL OR c.lport = :port OR c.rport = :port)
ORDER BY c.start_ts NULLS FIRST, c.first_line_id, c.id
