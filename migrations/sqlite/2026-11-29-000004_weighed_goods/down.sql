DROP INDEX refunds_cooperative;
DROP INDEX refunds_order;
DROP INDEX refunds_payment;
CREATE TABLE refunds_old (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders(id),
    payment_id TEXT NOT NULL REFERENCES payments(id),
    amount BIGINT NOT NULL CHECK (amount >= 0),
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO refunds_old SELECT id, order_id, payment_id, amount, reason, created_at FROM refunds
    WHERE kind = 'cancellation' AND payment_id IS NOT NULL;
DROP TABLE refunds;
ALTER TABLE refunds_old RENAME TO refunds;
CREATE UNIQUE INDEX refunds_payment ON refunds (payment_id);
ALTER TABLE orders DROP COLUMN refunded_total;
ALTER TABLE shipment_items DROP COLUMN actual_weight_grams;
ALTER TABLE order_items DROP COLUMN final_total;
ALTER TABLE order_items DROP COLUMN kg_price;
ALTER TABLE order_items DROP COLUMN pricing;
ALTER TABLE skus DROP COLUMN pricing;
