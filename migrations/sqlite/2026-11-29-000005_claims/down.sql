DROP INDEX refunds_claim_once;
ALTER TABLE refunds DROP COLUMN claim_id;
DROP TABLE claim_items;
DROP TABLE claims;
ALTER TABLE order_items DROP COLUMN claimed_quantity;
