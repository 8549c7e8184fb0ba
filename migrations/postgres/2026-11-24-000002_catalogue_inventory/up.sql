-- Hegang side: warehouses, the category tree, products with SKUs and tier prices, stock.
CREATE TABLE warehouses (
    id TEXT PRIMARY KEY NOT NULL,
    cooperative_id TEXT NOT NULL REFERENCES cooperatives(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    cold_storage BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX warehouses_cooperative ON warehouses (cooperative_id);

CREATE TABLE categories (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    parent_id TEXT REFERENCES categories(id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE products (
    id TEXT PRIMARY KEY NOT NULL,
    cooperative_id TEXT NOT NULL REFERENCES cooperatives(id),
    category_id TEXT REFERENCES categories(id),
    name TEXT NOT NULL,
    subtitle TEXT,
    description TEXT,
    origin TEXT NOT NULL,
    storage TEXT NOT NULL CHECK (storage IN ('ambient', 'chilled', 'frozen')),
    shelf_life_days INTEGER,
    certifications TEXT NOT NULL,
    images TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'unpublished', 'archived')),
    version BIGINT NOT NULL,
    -- lowest retail price (or lowest price when no SKU is retail): what price sorts and filters use
    sort_price BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX products_public ON products (status, created_at);
CREATE INDEX products_cooperative ON products (cooperative_id);

CREATE TABLE skus (
    id TEXT PRIMARY KEY NOT NULL,
    product_id TEXT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    cooperative_id TEXT NOT NULL REFERENCES cooperatives(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    unit TEXT NOT NULL,
    net_weight_grams BIGINT NOT NULL CHECK (net_weight_grams > 0),
    price BIGINT NOT NULL CHECK (price >= 0),
    sales_channel TEXT NOT NULL CHECK (sales_channel IN ('retail', 'wholesale', 'both')),
    min_order_quantity BIGINT,
    low_stock_threshold BIGINT NOT NULL,
    position INTEGER NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX skus_code_per_cooperative ON skus (cooperative_id, code);
CREATE INDEX skus_product ON skus (product_id);

CREATE TABLE sku_tiers (
    sku_id TEXT NOT NULL REFERENCES skus(id) ON DELETE CASCADE,
    min_quantity BIGINT NOT NULL CHECK (min_quantity > 0),
    unit_price BIGINT NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (sku_id, min_quantity)
);

CREATE TABLE stock (
    sku_id TEXT NOT NULL REFERENCES skus(id),
    warehouse_id TEXT NOT NULL REFERENCES warehouses(id),
    cooperative_id TEXT NOT NULL REFERENCES cooperatives(id),
    on_hand BIGINT NOT NULL,
    reserved BIGINT NOT NULL,
    version BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (sku_id, warehouse_id),
    CHECK (reserved >= 0 AND reserved <= on_hand)
);
CREATE INDEX stock_cooperative ON stock (cooperative_id);

CREATE TABLE stock_movements (
    id TEXT PRIMARY KEY NOT NULL,
    sku_id TEXT NOT NULL,
    warehouse_id TEXT NOT NULL,
    delta BIGINT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('receipt', 'adjustment', 'stocktake', 'reservation', 'release', 'shipment', 'return')),
    reason TEXT,
    order_id TEXT,
    actor_id TEXT,
    created_at TIMESTAMP NOT NULL,
    FOREIGN KEY (sku_id, warehouse_id) REFERENCES stock (sku_id, warehouse_id)
);
CREATE INDEX stock_movements_sku ON stock_movements (sku_id, id);

-- One row per (user, key): the request's fingerprint and, once done, the first response.
CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code INTEGER,
    response_body TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);

-- The ledger is append-only: even a bug cannot rewrite history.
CREATE FUNCTION stock_movements_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'stock_movements is append-only'; END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER stock_movements_no_change BEFORE UPDATE OR DELETE ON stock_movements
FOR EACH ROW EXECUTE FUNCTION stock_movements_append_only();
