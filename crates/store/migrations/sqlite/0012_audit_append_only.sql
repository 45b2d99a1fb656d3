-- Dialect-specific: triggers are written differently in each backend.
-- The audit log refuses edits and deletions from any client: the hash
-- chain shows tampering after the fact, these stop it through the
-- database (a bug, a stray script, an operator's mistake).
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
