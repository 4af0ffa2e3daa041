-- Millisecond time placement, as migrations/0042_time_placement.sql on the
-- edge (what each column means is said there).
ALTER TABLE source ADD COLUMN rel_anchor_ts bigint;
ALTER TABLE source ADD COLUMN rel_anchor_error_ms double precision;
ALTER TABLE source ADD COLUMN rel_anchor_source text;
ALTER TABLE source ADD COLUMN rel_anchor_lines bigint;
ALTER TABLE process ADD COLUMN start_precision text;
ALTER TABLE process ADD COLUMN exit_precision text;
