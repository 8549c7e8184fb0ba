-- Who did what: every state-changing staff action, written in the same transaction as it.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    details TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_time ON audit_events (created_at, id);
CREATE INDEX audit_events_target ON audit_events (target_id);
CREATE INDEX audit_events_actor ON audit_events (actor_id);

-- A co-op's own commission rate (a decimal such as 0.03); the platform default when NULL.
ALTER TABLE cooperatives ADD COLUMN commission_rate TEXT;
