-- Functions the named queries use that SQLite has and PostgreSQL lacks,
-- computing exactly what SQLite computes, so one portable query file gives
-- the same rows on both engines (queries/*.sql; queries/postgres/*.sql only
-- where the dialects truly differ). Only the forms tracedb's queries use.

-- An error for a form the functions below do not imitate.
CREATE OR REPLACE FUNCTION sqlite_unsupported(what text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RAISE EXCEPTION 'tracedb on PostgreSQL supports only % here', what
    USING HINT = 'write a PostgreSQL variant of the query in queries/postgres/';
END
$$;

-- strftime('%Y-%m-%dT%H:%M:%fZ', ts / 1e9, 'unixepoch'): UTC with
-- milliseconds, rounded as SQLite rounds (double arithmetic, to the nearest
-- millisecond of the Julian day). An SQL function that PostgreSQL inlines
-- into the query: STABLE as to_char is, and not STRICT (a strict function
-- whose body is a CASE is not inlined; NULL gives NULL all the same).
CREATE OR REPLACE FUNCTION strftime(fmt text, t numeric, modifier text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN fmt = '%Y-%m-%dT%H:%M:%fZ' AND modifier = 'unixepoch' THEN
      to_char(
        timestamp '1970-01-01 00:00:00'
          + (floor((round(t * 1000000000)::float8 / 1e9::float8) * 1000.0::float8 + 210866760000000.0::float8 + 0.5::float8)::bigint
             - 210866760000000) * interval '1 millisecond',
        'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    ELSE sqlite_unsupported('strftime(''%Y-%m-%dT%H:%M:%fZ'', seconds, ''unixepoch'')')
  END
$$;

-- round(real, digits): PostgreSQL rounds only numeric.
CREATE OR REPLACE FUNCTION round(x double precision, digits integer) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT round(x::numeric, digits)::float8
$$;

-- A REAL as SQLite prints it in text (`'max ' || 2.0` is 'max 2.0'): 15
-- significant digits, and always a decimal point.
CREATE OR REPLACE FUNCTION sqlite_text(x double precision) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN x::numeric::text LIKE '%.%' THEN rtrim(rtrim(x::numeric::text, '0'), '.') || CASE WHEN rtrim(x::numeric::text, '0') LIKE '%.' THEN '.0' ELSE '' END
    ELSE x::numeric::text || '.0'
  END
$$;

-- likelihood(condition, p): SQLite's planner hint, here the condition itself
-- (inlined, so the condition still uses indexes). The queries write
-- likelihood(x.capture_id = :capture, 0.99) on joins: PostgreSQL needs the
-- capture to tell processes apart (ids are per capture on the centre), and
-- SQLite, whose ids are unique in the file, keeps its plan (the parent index).
CREATE OR REPLACE FUNCTION likelihood(condition boolean, probability double precision) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT condition
$$;
