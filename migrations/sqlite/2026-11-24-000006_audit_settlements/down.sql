ALTER TABLE cooperatives DROP COLUMN commission_rate;
DROP TABLE audit_events;
