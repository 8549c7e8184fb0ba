-- Weighed goods and the refunds ledger: SKUs priced per kilogram, order items with the
-- per-kilogram rate they were sold at and their final (weight-adjusted) total, parcels with
-- their actual weight, and refunds of every kind, each with the co-op whose goods it refunds.
ALTER TABLE skus ADD COLUMN pricing TEXT NOT NULL DEFAULT 'per_unit'
    CHECK (pricing IN ('per_unit', 'per_kg'));

ALTER TABLE order_items ADD COLUMN pricing TEXT NOT NULL DEFAULT 'per_unit'
    CHECK (pricing IN ('per_unit', 'per_kg'));
ALTER TABLE order_items ADD COLUMN kg_price BIGINT CHECK (kg_price >= 0);
ALTER TABLE order_items ADD COLUMN final_total BIGINT NOT NULL DEFAULT 0 CHECK (final_total >= 0);
UPDATE order_items SET final_total = line_total;

ALTER TABLE shipment_items ADD COLUMN actual_weight_grams BIGINT CHECK (actual_weight_grams > 0);

-- what has been given back on the order's goods: never more than the order came to
ALTER TABLE orders ADD COLUMN refunded_total BIGINT NOT NULL DEFAULT 0
    CHECK (refunded_total >= 0 AND refunded_total <= total);

ALTER TABLE refunds ALTER COLUMN payment_id DROP NOT NULL;
ALTER TABLE refunds ADD COLUMN kind TEXT NOT NULL DEFAULT 'cancellation'
    CHECK (kind IN ('cancellation', 'weight_adjustment', 'claim'));
ALTER TABLE refunds ALTER COLUMN kind DROP DEFAULT;
ALTER TABLE refunds ADD COLUMN cooperative_id TEXT REFERENCES cooperatives(id);
DROP INDEX refunds_payment;
CREATE UNIQUE INDEX refunds_payment ON refunds (payment_id) WHERE kind = 'cancellation';
CREATE INDEX refunds_order ON refunds (order_id);
CREATE INDEX refunds_cooperative ON refunds (cooperative_id, created_at);
UPDATE orders SET refunded_total = LEAST(total, (SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE refunds.order_id = orders.id));
