-- @name summary
-- @description The investigation of one process tree on one screen: the root, its descendants (total, exec'd, fork-only), the commands that spawned most processes, the longest-lived, its sessions (direct children), block I/O, short-lived files, reclaim stalls, shared memory, fd passing, opens, signals and TCP connections with handshake, lifetime and retransmits. Each tool's section says "tool not captured" or "no data" when it has nothing. `tracedb compare` puts two summaries side by side.
-- @param pid integer The root process ID (e.g. the sshd listener)
-- @render sections
-- PostgreSQL variant of queries/summary.sql, the same query but for two
-- things: `value` mixes integers, reals and text, which a PostgreSQL UNION
-- refuses, so every value is a jsonb scalar (tracedb reads it back as the
-- number or text it is); and REALs written into text are formatted as SQLite
-- does (sqlite_text: 2.0, not 2). Keep the two files in step: a test runs
-- both engines and requires identical rows.
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
d AS (
  SELECT p.*, t.depth
  FROM tree t
  -- CROSS JOIN keeps the tree as the outer loop: each process is then found by its id
  CROSS JOIN process p
  WHERE p.id = t.id AND likelihood(p.capture_id = :capture, 0.99) AND t.depth > 0
),
-- the PIDs of the tree, to reach each tool's rows through its (capture_id, pid) index
tp (pid) AS (
  SELECT DISTINCT p.pid FROM tree t CROSS JOIN process p WHERE p.id = t.id AND likelihood(p.capture_id = :capture, 0.99)
),
captured (format) AS (
  SELECT DISTINCT format FROM source WHERE capture_id = :capture AND format IS NOT NULL
),
-- what a tool's empty section says
status (tool, text, short) AS (
  SELECT f.tool,
    CASE WHEN f.tool IN (SELECT format FROM captured)
      THEN 'no data: ' || f.tool || ' was captured, nothing from this tree'
      ELSE 'tool not captured: no ' || f.tool || ' log in this capture'
    END,
    CASE WHEN f.tool IN (SELECT format FROM captured) THEN 'no data' ELSE 'tool not captured' END
  FROM (
    SELECT 'biosnoop' AS tool UNION ALL SELECT 'filelife' UNION ALL SELECT 'drsnoop'
    UNION ALL SELECT 'shmsnoop' UNION ALL SELECT 'sofdsnoop' UNION ALL SELECT 'opensnoop'
    UNION ALL SELECT 'killsnoop' UNION ALL SELECT 'tcpstates' UNION ALL SELECT 'tcpretrans'
  ) f
),
io AS (SELECT e.* FROM biosnoop_event e WHERE e.capture_id = :capture AND e.pid IN (SELECT pid FROM tp) AND e.process_id IN (SELECT id FROM tree)),
files AS (SELECT e.* FROM filelife_event e WHERE e.capture_id = :capture AND e.pid IN (SELECT pid FROM tp) AND e.process_id IN (SELECT id FROM tree)),
-- libbpf drsnoop prints thread IDs only: by the linked instance
reclaim AS (SELECT e.* FROM drsnoop_event e WHERE e.capture_id = :capture AND e.process_id IN (SELECT id FROM tree)),
shm AS (SELECT e.* FROM shmsnoop_event e WHERE e.capture_id = :capture AND e.pid IN (SELECT pid FROM tp) AND e.process_id IN (SELECT id FROM tree)),
-- sofdsnoop prints thread IDs only
fds AS (SELECT e.* FROM sofdsnoop_event e WHERE e.capture_id = :capture AND e.tid IN (SELECT pid FROM tp) AND e.process_id IN (SELECT id FROM tree)),
-- two index lookups, not one OR: rows with a PID, and thread-only rows (opensnoop -t)
opens AS (
  SELECT e.* FROM opensnoop_event e WHERE e.capture_id = :capture AND e.pid IN (SELECT pid FROM tp) AND e.process_id IN (SELECT id FROM tree)
  UNION ALL
  SELECT e.* FROM opensnoop_event e WHERE e.capture_id = :capture AND e.pid IS NULL AND e.tid IN (SELECT pid FROM tp) AND e.process_id IN (SELECT id FROM tree)
),
signals AS (SELECT e.* FROM killsnoop_event e WHERE e.capture_id = :capture AND e.pid IN (SELECT pid FROM tp) AND e.process_id IN (SELECT id FROM tree)),
-- the seed method: following execsnoop's PPIDs alone, from PID (PIDs, not instances)
ex_edge AS MATERIALIZED (
  SELECT DISTINCT ppid, pid FROM execsnoop_event WHERE capture_id = :capture AND ppid IS NOT NULL AND pid IS NOT NULL
),
ex_reach (pid) AS (
  SELECT CAST(:pid AS bigint)
  UNION
  SELECT e.pid FROM ex_reach r JOIN ex_edge e ON e.ppid = r.pid
),
conns AS MATERIALIZED (
  SELECT c.*
  FROM tcp_connection c
  WHERE c.capture_id = :capture
    AND c.id IN (
      SELECT cp.connection_id FROM tcp_connection_pid cp
      WHERE cp.capture_id = :capture AND cp.process_id IN (SELECT id FROM tree)
    )
),
rows (ord, sub, section, item, value, detail) AS (
  -- the root: every instance of PID in the capture; one never seen itself (only
  -- as its children's parent) was running before the capture started
  SELECT 10, p.id, 'root', coalesce(p.comm, 'pid ' || p.pid), to_jsonb(p.lifetime_s),
    CASE
      WHEN p.inferred = 1 THEN 'pid ' || p.pid || ', started before the capture (seen only as its children''s parent)'
      WHEN p.seen_exit = 1 THEN 'lifetime s; pid ' || p.pid || ': ' || coalesce(p.args, p.comm)
      ELSE 'running past the capture end; pid ' || p.pid || ': ' || coalesce(p.args, p.comm, '?')
    END
  FROM tree t CROSS JOIN process p
  WHERE p.id = t.id AND likelihood(p.capture_id = :capture, 0.99) AND t.depth = 0
  UNION ALL
  SELECT 10, 0, 'root', 'pid ' || :pid, to_jsonb('not found'::text), 'no execsnoop/exitsnoop line of this capture names it'
  WHERE NOT EXISTS (SELECT 1 FROM tree)
  UNION ALL
  SELECT 20, 1, 'descendants', 'total', to_jsonb(count(*)), 'process instances below the root' FROM d
  UNION ALL
  SELECT 20, 2, 'descendants', 'exec''d', to_jsonb(sum(CASE WHEN seen_exec = 1 THEN 1 ELSE 0 END)), 'ran at least one successful exec' FROM d
  UNION ALL
  SELECT 20, 3, 'descendants', 'fork-only', to_jsonb(sum(CASE WHEN fork_only = 1 THEN 1 ELSE 0 END)), 'forked and exited without exec (exitsnoop only)' FROM d
  UNION ALL
  SELECT 20, 4, 'descendants', 'failed exec only', to_jsonb(sum(CASE WHEN seen_exec = 0 AND failed_exec_count > 0 THEN 1 ELSE 0 END)), 'every exec attempt failed' FROM d
  UNION ALL
  SELECT 20, 5, 'descendants', 'still running at the end', to_jsonb(sum(CASE WHEN seen_exit = 0 AND inferred = 0 THEN 1 ELSE 0 END)), 'no exit seen' FROM d
  UNION ALL
  SELECT 20, 6, 'descendants', 'max depth', to_jsonb(max(depth)), 'levels below the root' FROM d
  UNION ALL
  SELECT 20, 8, 'descendants', 'via execsnoop PPIDs', to_jsonb(count(*)),
    'of ' || (SELECT count(*) FROM d) || ': reached by following execsnoop''s PPIDs alone; the rest never exec''d or hang below a fork without exec'
  FROM d WHERE d.pid IN (SELECT pid FROM ex_reach WHERE pid <> :pid)
  UNION ALL
  SELECT 20, 7, 'descendants', 'total lifetime s', to_jsonb(round(sum(lifetime_s), 3)), 'sum of the lifetimes of exited descendants' FROM d
  UNION ALL
  -- the commands that spawned most processes (by the parent's command)
  SELECT 30, -n, 'top spawners', comm, to_jsonb(n), 'direct children, ' || execs || ' of them exec''d'
  FROM (
    SELECT parent.comm AS comm, count(*) AS n, sum(CASE WHEN d.seen_exec = 1 THEN 1 ELSE 0 END) AS execs
    FROM d JOIN process parent ON parent.id = d.parent_id AND likelihood(parent.capture_id = :capture, 0.99)
    GROUP BY parent.comm
    ORDER BY n DESC, comm NULLS FIRST
    LIMIT 5
  ) s
  UNION ALL
  -- the commands run most often
  SELECT 35, -n, 'top commands', comm, to_jsonb(n), 'instances, ' || sqlite_text(round(total, 3)) || ' s in total'
  FROM (
    SELECT comm, count(*) AS n, coalesce(sum(lifetime_s), 0) AS total
    FROM d
    GROUP BY comm
    ORDER BY n DESC, comm NULLS FIRST
    LIMIT 8
  ) s
  UNION ALL
  SELECT 40, rn, 'longest-lived', comm, to_jsonb(lifetime_s), 'pid ' || pid || ': ' || coalesce(args, comm)
  FROM (
    SELECT comm, pid, lifetime_s, args, row_number() OVER (ORDER BY lifetime_s DESC, id) AS rn
    FROM d
    WHERE lifetime_s IS NOT NULL
  ) s
  WHERE rn <= 5
  UNION ALL
  -- sessions: the root's direct children and their subtrees
  SELECT 50, 1, 'sessions', 'count', to_jsonb(count(*)), 'direct children of the root' FROM d WHERE depth = 1
  UNION ALL
  SELECT 50, 2, 'sessions', 'lifetime avg s', to_jsonb(round(avg(lifetime_s), 3)), 'of the direct children that exited' FROM d WHERE depth = 1
  UNION ALL
  SELECT 50, 3, 'sessions', 'lifetime max s', to_jsonb(max(lifetime_s)), 'of the direct children that exited' FROM d WHERE depth = 1
  UNION ALL
  -- block I/O
  SELECT 60, 1, 'block I/O', 'I/Os', to_jsonb(count(*)), sum(CASE WHEN rwbs LIKE 'R%' THEN 1 ELSE 0 END) || ' reads, ' || sum(CASE WHEN rwbs LIKE 'W%' THEN 1 ELSE 0 END) || ' writes' FROM io HAVING count(*) > 0
  UNION ALL
  SELECT 60, 2, 'block I/O', 'bytes', to_jsonb(sum(bytes)), 'avg latency ' || sqlite_text(round(avg(lat_ms), 3)) || ' ms, max ' || sqlite_text(max(lat_ms)) || ' ms' FROM io HAVING count(*) > 0
  UNION ALL
  SELECT 60, 0, 'block I/O', 'status', to_jsonb(short), text FROM status WHERE tool = 'biosnoop' AND NOT EXISTS (SELECT 1 FROM io)
  UNION ALL
  -- short-lived files
  SELECT 61, 1, 'short-lived files', 'files', to_jsonb(count(*)), 'created and deleted, avg age ' || sqlite_text(round(avg(age_s), 3)) || ' s' FROM files HAVING count(*) > 0
  UNION ALL
  SELECT 61, 0, 'short-lived files', 'status', to_jsonb(short), text FROM status WHERE tool = 'filelife' AND NOT EXISTS (SELECT 1 FROM files)
  UNION ALL
  -- direct reclaim
  SELECT 62, 1, 'reclaim stalls', 'stalls', to_jsonb(count(*)), sqlite_text(round(sum(lat_ms), 3)) || ' ms in total, max ' || sqlite_text(max(lat_ms)) || ' ms' FROM reclaim HAVING count(*) > 0
  UNION ALL
  SELECT 62, 0, 'reclaim stalls', 'status', to_jsonb(short), text FROM status WHERE tool = 'drsnoop' AND NOT EXISTS (SELECT 1 FROM reclaim)
  UNION ALL
  -- shared memory and fd passing
  SELECT 63, 1, 'shared memory', 'calls', to_jsonb(count(*)), count(DISTINCT shmid) || ' segments' FROM shm HAVING count(*) > 0
  UNION ALL
  SELECT 63, 0, 'shared memory', 'status', to_jsonb(short), text FROM status WHERE tool = 'shmsnoop' AND NOT EXISTS (SELECT 1 FROM shm)
  UNION ALL
  SELECT 64, 1, 'fd passing', 'fds passed', to_jsonb(count(*)), sum(CASE WHEN action = 'SEND' THEN 1 ELSE 0 END) || ' sent, ' || sum(CASE WHEN action = 'RECV' THEN 1 ELSE 0 END) || ' received' FROM fds HAVING count(*) > 0
  UNION ALL
  SELECT 64, 0, 'fd passing', 'status', to_jsonb(short), text FROM status WHERE tool = 'sofdsnoop' AND NOT EXISTS (SELECT 1 FROM fds)
  UNION ALL
  -- opens
  SELECT 65, 1, 'opens', 'opens', to_jsonb(count(*)), count(DISTINCT path) || ' paths, ' || sum(CASE WHEN fd IS NULL OR err <> 0 THEN 1 ELSE 0 END) || ' failed' FROM opens HAVING count(*) > 0
  UNION ALL
  SELECT 65, 0, 'opens', 'status', to_jsonb(short), text FROM status WHERE tool = 'opensnoop' AND NOT EXISTS (SELECT 1 FROM opens)
  UNION ALL
  -- signals sent by the tree
  SELECT 66, 1, 'signals', 'sent', to_jsonb(count(*)), count(DISTINCT tpid) || ' targets' FROM signals HAVING count(*) > 0
  UNION ALL
  SELECT 66, 0, 'signals', 'status', to_jsonb(short), text FROM status WHERE tool = 'killsnoop' AND NOT EXISTS (SELECT 1 FROM signals)
  UNION ALL
  -- TCP
  SELECT 70, 1, 'tcp', 'connections', to_jsonb(count(*)), sum(CASE WHEN side = 'server' THEN 1 ELSE 0 END) || ' server side, ' || sum(CASE WHEN side = 'client' THEN 1 ELSE 0 END) || ' client side' FROM conns HAVING count(*) > 0
  UNION ALL
  SELECT 70, 2, 'tcp', 'handshake avg ms', to_jsonb(round(avg(handshake_ms), 3)), 'max ' || sqlite_text(max(handshake_ms)) || ' ms' FROM conns HAVING count(handshake_ms) > 0
  UNION ALL
  SELECT 70, 3, 'tcp', 'lifetime avg ms', to_jsonb(round(avg(lifetime_ms), 3)), 'max ' || sqlite_text(max(lifetime_ms)) || ' ms (tcplife)' FROM conns HAVING count(lifetime_ms) > 0
  UNION ALL
  SELECT 70, 4, 'tcp', 'retransmits', to_jsonb(sum(retransmits)), sum(loss_probes) || ' tail loss probes' FROM conns HAVING count(retransmits) > 0
  UNION ALL
  SELECT 70, 5, 'tcp', 'retransmits', to_jsonb(short), text FROM status WHERE tool = 'tcpretrans' AND EXISTS (SELECT 1 FROM conns) AND NOT EXISTS (SELECT 1 FROM conns WHERE retransmits IS NOT NULL)
  UNION ALL
  SELECT 71, rn, 'tcp connections', side || CASE WHEN side = 'server' THEN ' :' || lport ELSE ' to :' || rport END, to_jsonb(handshake_ms),
    'handshake ms; ' || laddr || ':' || lport || ' <-> ' || raddr || ':' || rport || '; '
      || coalesce('lifetime ' || sqlite_text(lifetime_ms) || ' ms, tx ' || sqlite_text(tx_kb) || ' KB, rx ' || sqlite_text(rx_kb) || ' KB', 'no tcplife row')
      || coalesce(', ' || retransmits || ' retransmits', '')
  FROM (SELECT conns.*, row_number() OVER (ORDER BY start_ts NULLS FIRST, first_line_id, id) AS rn FROM conns) s
  WHERE rn <= 10
  UNION ALL
  SELECT 70, 0, 'tcp', 'status', to_jsonb(short), text FROM status WHERE tool = 'tcpstates' AND NOT EXISTS (SELECT 1 FROM conns)
)
SELECT section, item, value, detail
FROM rows
ORDER BY ord, sub
