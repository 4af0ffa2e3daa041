-- @name timeline
-- @description Every tool's events of the capture merged in time order (execs, exits, forks derived from exitsnoop AGE, TCP transitions and sessions, connects, accepts, block I/O, reclaim stalls, short-lived files, shared memory, fd passing, opens, signals), one line each with a short description and the log_line id of its raw line; only those of the process tree of PID (every instance of PID and its descendants) when PID is given. Events of one process keep their causal order (start, exec, ..., exit) even when the tools print times at different precisions: the sort clamps a printed time into the process's [start, exit] when it lies at most 2 s outside; time_utc stays the printed time, except a whole-second exit refined to its process's placed exit (start + AGE, when execsnoop -T -t printed its exec to the ms; precision then says 10ms).
-- @param pid integer = null Only the tree of this process ID (all instances of it and their descendants); none: the whole capture
-- @param limit integer = 1000 At most this many rows (-1: all)
-- PostgreSQL variant of queries/timeline.sql, the same query but for REALs
-- written into the event text, which are formatted as SQLite does
-- (sqlite_text: "after 1.0s", not "after 1s"). Keep the two files in step: a
-- test runs both engines and requires identical rows.
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
-- One row per event (of the tree only, when PID is given: filtered in each
-- branch, before any text is built). kind_rank orders the events of one process that sort
-- at the same time: start (0) < exec (1) < anything else (2) < exit (3).
ev (line_id, process_id, ts, ts_precision, tool, pid, comm, event, kind_rank) AS (
  -- fork times: exit time minus exitsnoop AGE, or a fork-only process placed
  -- between its parent's and its children's ms times (bounded); no row when
  -- the start is the first exec's time, which the exec row already shows
  SELECT x.line_id, p.id, p.start_ts, CASE WHEN p.start_source = 'bounded' THEN p.start_precision ELSE 'derived' END,
    'process', p.pid, p.comm, 'start (fork)', 0
  FROM process p
  JOIN exitsnoop_event x ON x.process_id = p.id AND likelihood(x.capture_id = :capture, 0.99)
  WHERE +p.capture_id = :capture AND p.start_source IN ('exit_age', 'bounded') AND p.start_ts IS NOT NULL
    AND (:pid IS NULL OR p.id IN (SELECT id FROM tree))
  UNION ALL
  SELECT e.line_id, e.process_id, e.ts, e.ts_precision, 'execsnoop', e.pid, e.comm,
    CASE WHEN e.ret IS NULL OR e.ret = 0 THEN 'exec ' ELSE 'exec failed (' || e.ret || ') ' END
      || coalesce(e.args, e.filename, e.comm, '?')
      || CASE WHEN e.args_truncated = 1 THEN ' ...' ELSE '' END,
    1
  FROM execsnoop_event e
  WHERE +e.capture_id = :capture AND (:pid IS NULL OR e.process_id IN (SELECT id FROM tree))
  UNION ALL
  -- a process's exit at its placed time (process.exit_ts: start + AGE when
  -- its exec was printed to the ms), when that is more precise than printed
  SELECT e.line_id, e.process_id,
    CASE WHEN px.exit_precision IN ('ms', '10ms', '100ms') AND e.ts_precision = 's' THEN px.exit_ts ELSE e.ts END,
    CASE WHEN px.exit_precision IN ('ms', '10ms', '100ms') AND e.ts_precision = 's' THEN px.exit_precision ELSE e.ts_precision END,
    'exitsnoop', e.pid, e.comm,
    CASE WHEN e.tid IS NOT NULL AND e.tid <> e.pid THEN 'thread ' || e.tid || ' ' ELSE '' END
      || CASE
        WHEN e.signal IS NOT NULL THEN 'killed by signal ' || e.signal || coalesce(' (' || e.signal_name || ')', '')
          || CASE WHEN e.core_dumped = 1 THEN ', core dumped' ELSE '' END
        WHEN e.exit_code IS NOT NULL THEN 'exit code ' || e.exit_code
        ELSE 'exit ' || coalesce(e.exit_text, '?')
      END
      || coalesce(' after ' || sqlite_text(e.age_s) || 's', ''),
    3
  FROM exitsnoop_event e
  LEFT JOIN process px ON px.id = e.process_id AND likelihood(px.capture_id = :capture, 0.99) AND (e.tid IS NULL OR e.tid = e.pid)
  WHERE +e.capture_id = :capture AND (:pid IS NULL OR e.process_id IN (SELECT id FROM tree))
  UNION ALL
  SELECT e.line_id, e.process_id, e.ts, e.ts_precision, 'tcpstates', e.pid, e.comm,
    'tcp ' || coalesce(e.oldstate, '?') || ' -> ' || coalesce(e.newstate, '?') || ' '
      || coalesce(e.laddr, '*') || ':' || coalesce(CAST(e.lport AS TEXT), '*') || ' -> '
      || coalesce(e.raddr, '*') || ':' || coalesce(CAST(e.rport AS TEXT), '*')
      || coalesce(' (' || sqlite_text(e.ms) || ' ms)', ''),
    2
  FROM tcpstates_event e
  WHERE +e.capture_id = :capture AND (:pid IS NULL OR e.process_id IN (SELECT id FROM tree))
  UNION ALL
  SELECT e.line_id, e.process_id, e.ts, e.ts_precision, 'tcplife', e.pid, e.comm,
    'tcp closed ' || coalesce(e.laddr, '*') || ':' || coalesce(CAST(e.lport AS TEXT), '*') || ' -> '
      || coalesce(e.raddr, '*') || ':' || coalesce(CAST(e.rport AS TEXT), '*')
      || coalesce(' after ' || sqlite_text(e.ms) || ' ms', '')
      || coalesce(', tx ' || sqlite_text(e.tx_kb) || ' KiB', '') || coalesce(', rx ' || sqlite_text(e.rx_kb) || ' KiB', ''),
    2
  FROM tcplife_event e
  WHERE +e.capture_id = :capture AND (:pid IS NULL OR e.process_id IN (SELECT id FROM tree))
  UNION ALL
  SELECT e.line_id, e.process_id, e.ts, e.ts_precision, 'tcpretrans', e.pid, NULL,
    CASE
      WHEN e.mode = 'count' THEN 'tcp ' || coalesce(CAST(e.count AS TEXT), '?') || ' retransmits (whole run) '
      WHEN e.type = 'L' THEN 'tcp loss probe '
      ELSE 'tcp retransmit '
    END
      || coalesce(e.laddr, '*') || ':' || coalesce(CAST(e.lport AS TEXT), '*') || ' -> '
      || coalesce(e.raddr, '*') || ':' || coalesce(CAST(e.rport AS TEXT), '*')
      || coalesce(' ' || e.state, '') || coalesce(' seq ' || e.seq, ''),
    2
  FROM tcpretrans_event e
  WHERE +e.capture_id = :capture AND (:pid IS NULL OR e.process_id IN (SELECT id FROM tree))
  UNION ALL
  SELECT e.line_id, e.process_id, e.ts, e.ts_precision, 'tcpconnect', e.pid, e.comm,
    CASE WHEN e.mode = 'count' THEN coalesce(CAST(e.count AS TEXT), '?') || ' connects (whole run) ' ELSE 'connect ' END
      || coalesce(e.saddr, '*') || coalesce(':' || e.sport, '') || ' -> '
      || coalesce(e.daddr, '*') || ':' || coalesce(CAST(e.dport AS TEXT), '*')
      || coalesce(' (' || e.query || ')', ''),
    2
  FROM tcpconnect_event e
  WHERE +e.capture_id = :capture AND (:pid IS NULL OR e.process_id IN (SELECT id FROM tree))
  UNION ALL
  SELECT e.line_id, e.process_id, e.ts, e.ts_precision, 'tcpaccept', e.pid, e.comm,
    'accept ' || coalesce(e.raddr, '*') || ':' || coalesce(CAST(e.rport AS TEXT), '*') || ' -> '
      || coalesce(e.laddr, '*') || ':' || coalesce(CAST(e.lport AS TEXT), '*'),
    2
  FROM tcpaccept_event e
  WHERE +e.capture_id = :capture AND (:pid IS NULL OR e.process_id IN (SELECT id FROM tree))
  UNION ALL
  SELECT e.line_id, e.process_id, e.ts, e.ts_precision, 'tcpconnlat', e.pid, e.comm,
    'connect ' || coalesce(e.saddr, '*') || coalesce(':' || e.sport, '') || ' -> '
      || coalesce(e.daddr, '*') || ':' || coalesce(CAST(e.dport AS TEXT), '*')
      || coalesce(' latency ' || sqlite_text(e.lat_ms) || ' ms', ''),
    2
  FROM tcpconnlat_event e
  WHERE +e.capture_id = :capture AND (:pid IS NULL OR e.process_id IN (SELECT id FROM tree))
  UNION ALL
  SELECT e.line_id, e.process_id, e.ts, e.ts_precision, 'biosnoop', e.pid, e.comm,
    'I/O ' || coalesce(e.rwbs, '?') || ' ' || coalesce(CAST(e.bytes AS TEXT), '?') || ' bytes'
      || coalesce(' ' || sqlite_text(e.lat_ms) || ' ms', '') || coalesce(' on ' || e.disk, '')
      || coalesce(' sector ' || e.sector, ''),
    2
  FROM biosnoop_event e
  WHERE +e.capture_id = :capture AND (:pid IS NULL OR e.process_id IN (SELECT id FROM tree))
  UNION ALL
  SELECT e.line_id, e.process_id, e.ts, e.ts_precision, 'drsnoop', e.pid, e.comm,
    'reclaim ' || coalesce(sqlite_text(e.lat_ms) || ' ms', '?') || coalesce(', ' || e.pages || ' pages', '')
      || CASE WHEN e.tid IS NOT NULL AND (e.pid IS NULL OR e.tid <> e.pid) THEN ' [tid ' || e.tid || ']' ELSE '' END,
    2
  FROM drsnoop_event e
  WHERE +e.capture_id = :capture AND (:pid IS NULL OR e.process_id IN (SELECT id FROM tree))
  UNION ALL
  SELECT e.line_id, e.process_id, e.ts, e.ts_precision, 'filelife', e.pid, e.comm,
    'file deleted ' || coalesce(e.file, '?') || coalesce(' after ' || sqlite_text(e.age_s) || 's', ''),
    2
  FROM filelife_event e
  WHERE +e.capture_id = :capture AND (:pid IS NULL OR e.process_id IN (SELECT id FROM tree))
  UNION ALL
  SELECT e.line_id, e.process_id, e.ts, e.ts_precision, 'shmsnoop', e.pid, e.comm,
    'shm ' || coalesce(e.sys, '?') || coalesce(' ' || e.args, '') || ' = '
      || CASE WHEN e.ret_value < 0 THEN 'error ' || e.ret_value ELSE coalesce('0x' || e.ret, '?') END
      || CASE WHEN e.tid IS NOT NULL AND (e.pid IS NULL OR e.tid <> e.pid) THEN ' [tid ' || e.tid || ']' ELSE '' END,
    2
  FROM shmsnoop_event e
  WHERE +e.capture_id = :capture AND (:pid IS NULL OR e.process_id IN (SELECT id FROM tree))
  UNION ALL
  SELECT e.line_id, e.process_id, e.ts, e.ts_precision, 'sofdsnoop', e.pid, e.comm,
    CASE WHEN e.action = 'SEND' THEN 'fd send ' ELSE 'fd recv ' END || coalesce(CAST(e.fd AS TEXT), '?')
      || coalesce(' (' || e.name || ')', '')
      || ' over socket fd ' || coalesce(CAST(e.sock_fd AS TEXT), '?') || coalesce(' (' || e.socket || ')', '')
      || CASE WHEN e.tid IS NOT NULL AND (e.pid IS NULL OR e.tid <> e.pid) THEN ' [tid ' || e.tid || ']' ELSE '' END,
    2
  FROM sofdsnoop_event e
  WHERE +e.capture_id = :capture AND (:pid IS NULL OR e.process_id IN (SELECT id FROM tree))
  UNION ALL
  SELECT e.line_id, e.process_id, e.ts, e.ts_precision, 'opensnoop', e.pid, e.comm,
    'open ' || coalesce(e.path, '?')
      || CASE WHEN e.fd IS NOT NULL AND coalesce(e.err, 0) = 0 THEN ' fd=' || e.fd ELSE ' failed errno=' || coalesce(CAST(e.err AS TEXT), '?') END
      || CASE WHEN e.tid IS NOT NULL AND (e.pid IS NULL OR e.tid <> e.pid) THEN ' [tid ' || e.tid || ']' ELSE '' END,
    2
  FROM opensnoop_event e
  WHERE +e.capture_id = :capture AND (:pid IS NULL OR e.process_id IN (SELECT id FROM tree))
  UNION ALL
  SELECT e.line_id, e.process_id, e.ts, e.ts_precision, 'killsnoop', e.pid, e.comm,
    'signal ' || coalesce(CAST(e.sig AS TEXT), '?') || coalesce(' (' || e.sig_name || ')', '')
      || ' -> ' || coalesce(CAST(e.tpid AS TEXT), '?') || coalesce(' ' || e.tcomm, '')
      || CASE WHEN e.result IS NOT NULL AND e.result <> 0 THEN ' failed ' || e.result ELSE '' END,
    2
  FROM killsnoop_event e
  WHERE +e.capture_id = :capture AND (:pid IS NULL OR e.process_id IN (SELECT id FROM tree))
),
-- The sort key: the printed time, moved into the span of the event's process
-- instance [start (from exitsnoop AGE), exit] when it lies outside by at most
-- 2 s (a second-precision clock truncates: an exec printed 12:00:01 may have
-- run at 12:00:01.700, after a fork derived at 12:00:01.650). Further out,
-- the printed time stands: the link to the instance is then doubtful.
keyed AS (
  SELECT ev.*,
    CASE
      WHEN ev.ts IS NULL THEN NULL
      WHEN p.start_source IN ('exit_age', 'bounded') AND ev.ts < p.start_ts AND ev.ts >= p.start_ts - 2000000000 THEN p.start_ts
      WHEN ev.ts > p.exit_ts AND ev.ts <= p.exit_ts + 2000000000 THEN p.exit_ts
      ELSE ev.ts
    END AS sort_ts,
    coalesce(ev.pid, p.pid) AS shown_pid
  FROM ev
  LEFT JOIN process p ON p.id = ev.process_id AND likelihood(p.capture_id = :capture, 0.99)
)
SELECT
  strftime('%Y-%m-%dT%H:%M:%fZ', ts / 1e9, 'unixepoch') AS time_utc,
  ts_precision AS precision,
  tool,
  shown_pid AS pid,
  comm,
  process_id,
  event,
  line_id
FROM keyed
-- Ties (common with second-precision clocks): exits last, in the order the
-- tool printed them; before them the other events grouped by process
-- instance (ids follow start order), start < exec < others; then file order.
ORDER BY
  sort_ts IS NULL, sort_ts,
  CASE WHEN kind_rank = 3 THEN 1 ELSE 0 END,
  CASE WHEN kind_rank = 3 THEN 0 ELSE coalesce(process_id, 0) END,
  kind_rank,
  line_id
-- (LIMIT -1 means all on SQLite only: the largest integer says it on both engines)
LIMIT CASE WHEN :limit < 0 THEN 9223372036854775807 ELSE :limit END
