-- Millisecond time placement (execsnoop -T -t; process times by their most
-- precise evidence).

-- The instant a source's relative clock (TIME(s): seconds since the tool
-- started) counts from, integer ns since the Unix epoch (UTC); NULL when the
-- source has no relative clock or nothing anchors it.
ALTER TABLE source ADD COLUMN rel_anchor_ts INTEGER;
-- How far rel_anchor_ts may be off, in ms either way (half the width of
-- what bounds it); NULL when unknown (a file's creation time).
ALTER TABLE source ADD COLUMN rel_anchor_error_ms REAL;
-- What bounds it: lines (every execsnoop -T -t line bounds it by its wall
-- second), lines+capture.json (also the tool's spawn and header times),
-- capture.json (header_utc, started_utc), file creation time.
ALTER TABLE source ADD COLUMN rel_anchor_source TEXT;
-- How many lines bounded it.
ALTER TABLE source ADD COLUMN rel_anchor_lines INTEGER;

-- What start_ts is worth: ms or 10ms (an exec printed to the ms, by
-- execsnoop -T -t whose anchor is known that closely; or a ms exit minus
-- exitsnoop's AGE, printed to 10 ms), s (a whole-second time), or what
-- bounded it (100ms); NULL when unknown. start_source then says how it was
-- placed: exec (at its first exec: a process exec'd right after its fork,
-- whose exec is printed more precisely than its exit, exits at start + AGE),
-- exit_age (exit minus AGE), bounded (a fork-only process placed between its
-- parent's start and its children's ms times, src/derive/refine.ts).
ALTER TABLE process ADD COLUMN start_precision TEXT;
-- What exit_ts is worth: ms (printed to the ms), 10ms (start plus
-- exitsnoop's AGE), s (a whole-second exit time), 100ms; NULL when unknown.
ALTER TABLE process ADD COLUMN exit_precision TEXT;
