-- The process instance behind each PID seen on a connection (the instance
-- of that PID alive at the time of the evidence), for attribution to trees.
ALTER TABLE tcp_connection_pid ADD COLUMN process_id INTEGER REFERENCES process (id);
CREATE INDEX tcp_connection_pid_process ON tcp_connection_pid (process_id);
