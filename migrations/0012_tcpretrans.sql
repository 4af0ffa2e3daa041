-- tcpretrans records: retransmits and tail loss probes per connection (and -c per-flow counts), the evidence of packet loss.
CREATE TABLE tcpretrans_event (
  line_id INTEGER PRIMARY KEY REFERENCES log_line (id),
  capture_id INTEGER NOT NULL REFERENCES capture (id),
  source_id INTEGER NOT NULL REFERENCES source (id),
  ts INTEGER,
  ts_precision TEXT,
  time_text TEXT,
  process_id INTEGER,
  mode TEXT,
  pid INTEGER,
  ip INTEGER,
  laddr TEXT,
  lport INTEGER,
  type TEXT,
  raddr TEXT,
  rport INTEGER,
  state TEXT,
  seq INTEGER,
  count INTEGER
);
CREATE INDEX tcpretrans_event_pid ON tcpretrans_event (capture_id, pid);
CREATE INDEX tcpretrans_event_flow ON tcpretrans_event (capture_id, laddr, lport, raddr, rport);
