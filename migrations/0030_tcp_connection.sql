-- TCP connections derived from tcpstates: a chain of transitions of one
-- socket address from LISTEN -> SYN_RECV (passive) or CLOSE -> SYN_SENT
-- (active) to -> CLOSE. Socket addresses are reused, so one skaddr can serve
-- several connections. Joined to tcplife (lifetime, bytes) and tcpretrans.
CREATE TABLE tcp_connection (
  id INTEGER PRIMARY KEY,
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  -- kernel socket address the transitions were printed for
  skaddr TEXT NOT NULL,
  -- server (passive open), client (active open), or unknown (opened before the capture)
  side TEXT NOT NULL,
  laddr TEXT,
  lport INTEGER,
  raddr TEXT,
  rport INTEGER,
  -- ms spent in SYN_RECV (server) or SYN_SENT (client): the MS of the -> ESTABLISHED transition
  handshake_ms REAL,
  -- time of the first transition seen
  start_ts INTEGER,
  established_ts INTEGER,
  closed_ts INTEGER,
  -- the states in order, e.g. LISTEN>SYN_RECV>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE
  states TEXT NOT NULL,
  transitions INTEGER NOT NULL,
  -- 1 when the chain both started and ended inside the capture
  complete INTEGER NOT NULL,
  -- the tcplife row of the same addresses and ports closest to the close
  tcplife_line_id INTEGER,
  -- lifetime in ms, bytes in KiB, from tcplife
  lifetime_ms REAL,
  tx_kb REAL,
  rx_kb REAL,
  -- tcpretrans rows of the connection: retransmits and tail loss probes
  retransmits INTEGER,
  loss_probes INTEGER
);
CREATE INDEX tcp_connection_capture ON tcp_connection (capture_id, lport, rport);

-- Every PID seen for a connection: on its tcpstates transitions (whoever was
-- on the CPU: often the peer on loopback, or 0 for softirq) and in its
-- tcplife row. A connection belongs to a process tree when any of them does.
CREATE TABLE tcp_connection_pid (
  connection_id INTEGER NOT NULL REFERENCES tcp_connection (id),
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  pid INTEGER NOT NULL,
  comm TEXT,
  -- tcpstates | tcplife
  evidence TEXT NOT NULL,
  ts INTEGER,
  PRIMARY KEY (connection_id, pid, evidence)
);
CREATE INDEX tcp_connection_pid_pid ON tcp_connection_pid (capture_id, pid);
