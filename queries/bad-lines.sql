-- @name bad-lines
-- @description Lines of the capture that did not parse, with file, line number, reason and the raw text.
SELECT s.path, l.line_no, l.detail AS reason, l.raw
FROM log_line l
JOIN source s ON s.id = l.source_id AND likelihood(s.capture_id = :capture, 0.99)
WHERE l.capture_id = :capture AND l.kind = 'bad'
ORDER BY s.path, l.line_no
