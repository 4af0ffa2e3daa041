-- Identity across hosts (`tracedb push` to a shared PostgreSQL).
-- uid: a stable unique id (a random UUID) given when the capture is created
-- here; on the centre it tells this capture apart from every other host's,
-- whatever their names. host: the host the logs were recorded on
-- (capture.json's hostname, or `--host`); NULL when unknown.
ALTER TABLE capture ADD COLUMN uid TEXT;
ALTER TABLE capture ADD COLUMN host TEXT;
UPDATE capture SET uid = lower(
  substr(hex(randomblob(4)), 1) || '-' || substr(hex(randomblob(2)), 1) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
  substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))
) WHERE uid IS NULL;
UPDATE capture SET host = json_extract(meta, '$.hostname') WHERE host IS NULL AND json_valid(meta);
CREATE UNIQUE INDEX capture_uid ON capture (uid);
