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

CREATE TABLE refunds_ledger (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders(id),
    -- the payment the money goes back on; none on payment terms (what is owed drops instead)
    payment_id TEXT REFERENCES payments(id),
    kind TEXT NOT NULL CHECK (kind IN ('cancellation', 'weight_adjustment', 'claim')),
    amount BIGINT NOT NULL CHECK (amount >= 0),
    reason TEXT NOT NULL,
    -- whose goods it refunds (none for a whole-order cancellation)
    cooperative_id TEXT REFERENCES cooperatives(id),
    created_at TIMESTAMP NOT NULL
);
INSERT INTO refunds_ledger (id, order_id, payment_id, kind, amount, reason, cooperative_id, created_at)
    SELECT id, order_id, payment_id, 'cancellation', amount, reason, NULL, created_at FROM refunds;
DROP TABLE refunds;
ALTER TABLE refunds_ledger RENAME TO refunds;
CREATE UNIQUE INDEX refunds_payment ON refunds (payment_id) WHERE kind = 'cancellation';
CREATE INDEX refunds_order ON refunds (order_id);
CREATE INDEX refunds_cooperative ON refunds (cooperative_id, created_at);
UPDATE orders SET refunded_total = MIN(total, (SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE refunds.order_id = orders.id));
