-- Shantou side: carts, shipping rates, orders split into per-co-op fulfilments, payments.
CREATE TABLE cart_items (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sku_id TEXT NOT NULL REFERENCES skus(id) ON DELETE CASCADE,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, sku_id)
);

-- Fees per destination province ('*' = every other province) and storage class, in fen.
CREATE TABLE shipping_rates (
    province TEXT NOT NULL,
    storage TEXT NOT NULL CHECK (storage IN ('ambient', 'chilled', 'frozen')),
    first_kg_fee BIGINT NOT NULL CHECK (first_kg_fee >= 0),
    additional_kg_fee BIGINT NOT NULL CHECK (additional_kg_fee >= 0),
    free_over BIGINT CHECK (free_over >= 0),
    PRIMARY KEY (province, storage)
);
INSERT INTO shipping_rates (province, storage, first_kg_fee, additional_kg_fee, free_over) VALUES
    ('广东省', 'ambient', 1000, 400, 19900),
    ('广东省', 'chilled', 1800, 800, 39900),
    ('广东省', 'frozen', 2200, 1000, 49900),
    ('黑龙江省', 'ambient', 800, 200, 9900),
    ('黑龙江省', 'chilled', 1200, 500, 19900),
    ('黑龙江省', 'frozen', 1500, 600, 29900),
    ('*', 'ambient', 1200, 500, 29900),
    ('*', 'chilled', 2200, 1000, 49900),
    ('*', 'frozen', 2600, 1200, 59900);

CREATE TABLE orders (
    id TEXT PRIMARY KEY NOT NULL,
    number TEXT NOT NULL UNIQUE,
    buyer_id TEXT NOT NULL REFERENCES users(id),
    organization_id TEXT REFERENCES organizations(id),
    status TEXT NOT NULL CHECK (status IN ('pending_payment', 'confirmed', 'partially_shipped', 'shipped', 'delivered', 'completed', 'cancelled')),
    payment_status TEXT NOT NULL CHECK (payment_status IN ('unpaid', 'paid', 'on_terms', 'refunded')),
    subtotal BIGINT NOT NULL CHECK (subtotal >= 0),
    shipping_fee BIGINT NOT NULL CHECK (shipping_fee >= 0),
    total BIGINT NOT NULL CHECK (total >= 0),
    shipping_address TEXT NOT NULL,
    buyer_note TEXT,
    purchase_order_number TEXT,
    cancel_reason TEXT,
    payment_due_at TIMESTAMP,
    paid_at TIMESTAMP,
    delivered_at TIMESTAMP,
    completed_at TIMESTAMP,
    cancelled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX orders_buyer ON orders (buyer_id, created_at);
CREATE INDEX orders_status_due ON orders (status, payment_due_at);
CREATE INDEX orders_organization ON orders (organization_id, created_at);

CREATE TABLE fulfilments (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders(id),
    cooperative_id TEXT NOT NULL REFERENCES cooperatives(id),
    warehouse_id TEXT NOT NULL REFERENCES warehouses(id),
    status TEXT NOT NULL CHECK (status IN ('awaiting_payment', 'awaiting_shipment', 'partially_shipped', 'shipped', 'delivered', 'cancelled')),
    storage TEXT NOT NULL CHECK (storage IN ('ambient', 'chilled', 'frozen')),
    shipping_fee BIGINT NOT NULL CHECK (shipping_fee >= 0),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX fulfilments_order ON fulfilments (order_id);
CREATE INDEX fulfilments_queue ON fulfilments (cooperative_id, status, created_at);

CREATE TABLE order_items (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders(id),
    fulfilment_id TEXT NOT NULL REFERENCES fulfilments(id),
    sku_id TEXT NOT NULL REFERENCES skus(id),
    sku_code TEXT NOT NULL,
    product_name TEXT NOT NULL,
    sku_name TEXT NOT NULL,
    cooperative_id TEXT NOT NULL REFERENCES cooperatives(id),
    warehouse_id TEXT NOT NULL REFERENCES warehouses(id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price BIGINT NOT NULL CHECK (unit_price >= 0),
    line_total BIGINT NOT NULL CHECK (line_total >= 0),
    net_weight_grams BIGINT NOT NULL,
    shipped_quantity BIGINT NOT NULL CHECK (shipped_quantity >= 0 AND shipped_quantity <= quantity),
    position INTEGER NOT NULL
);
CREATE INDEX order_items_order ON order_items (order_id);
CREATE INDEX order_items_fulfilment ON order_items (fulfilment_id);

CREATE TABLE payments (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders(id),
    provider TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount >= 0),
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'refunded')),
    provider_reference TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX payments_order ON payments (order_id);

CREATE TABLE refunds (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders(id),
    payment_id TEXT NOT NULL REFERENCES payments(id),
    amount BIGINT NOT NULL CHECK (amount >= 0),
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX refunds_payment ON refunds (payment_id);

-- order numbers come from a sequence: no row lock shared by every order
CREATE SEQUENCE order_number_seq;
