ALTER TABLE organizations DROP COLUMN credit_used;
