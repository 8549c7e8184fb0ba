-- Business buyers on net-30 terms: the open on-terms total, moved by one conditional UPDATE.
ALTER TABLE organizations ADD COLUMN credit_used BIGINT NOT NULL DEFAULT 0 CHECK (credit_used >= 0);
