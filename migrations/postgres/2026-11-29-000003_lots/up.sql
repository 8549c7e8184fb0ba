-- Freshness: lots of lot-tracked SKUs with their dates, which lots each order item reserved,
-- which lots each parcel carried, and the shelf life an organization requires.
-- Dates are 'YYYY-MM-DD' in China time, so text order is date order.
ALTER TABLE skus ADD COLUMN lot_tracked BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE organizations ADD COLUMN min_remaining_shelf_life_days INTEGER NOT NULL DEFAULT 0
    CHECK (min_remaining_shelf_life_days >= 0 AND min_remaining_shelf_life_days <= 3650);

CREATE TABLE lots (
    id TEXT PRIMARY KEY NOT NULL,
    cooperative_id TEXT NOT NULL REFERENCES cooperatives(id),
    sku_id TEXT NOT NULL REFERENCES skus(id),
    warehouse_id TEXT NOT NULL REFERENCES warehouses(id),
    code TEXT NOT NULL,
    harvested_on TEXT,
    packed_on TEXT NOT NULL,
    best_before TEXT NOT NULL,
    origin TEXT,
    certificate_no TEXT,
    received_quantity BIGINT NOT NULL CHECK (received_quantity > 0),
    on_hand BIGINT NOT NULL,
    reserved BIGINT NOT NULL,
    -- 'active' or 'held'; expired and depleted follow from the date and the count
    status TEXT NOT NULL CHECK (status IN ('active', 'held')),
    hold_reason TEXT,
    trace_code TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (reserved >= 0 AND reserved <= on_hand)
);
CREATE UNIQUE INDEX lots_code_per_sku ON lots (sku_id, code);
CREATE UNIQUE INDEX lots_trace_code ON lots (trace_code);
CREATE INDEX lots_fefo ON lots (sku_id, warehouse_id, best_before, id);
CREATE INDEX lots_by_cooperative ON lots (cooperative_id, best_before, id);

-- The units of a lot an order item holds: reserved at placement, then shipped or released.
CREATE TABLE lot_allocations (
    order_item_id TEXT NOT NULL REFERENCES order_items(id),
    lot_id TEXT NOT NULL REFERENCES lots(id),
    order_id TEXT NOT NULL REFERENCES orders(id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    shipped_quantity BIGINT NOT NULL CHECK (shipped_quantity >= 0),
    released_quantity BIGINT NOT NULL CHECK (released_quantity >= 0),
    CHECK (shipped_quantity + released_quantity <= quantity),
    PRIMARY KEY (order_item_id, lot_id)
);
CREATE INDEX lot_allocations_by_lot ON lot_allocations (lot_id);
CREATE INDEX lot_allocations_by_order ON lot_allocations (order_id);

-- The units of each lot a parcel carried.
CREATE TABLE shipment_lots (
    shipment_id TEXT NOT NULL REFERENCES shipments(id),
    order_item_id TEXT NOT NULL REFERENCES order_items(id),
    lot_id TEXT NOT NULL REFERENCES lots(id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (shipment_id, order_item_id, lot_id)
);
CREATE INDEX shipment_lots_by_lot ON shipment_lots (lot_id);

ALTER TABLE stock_movements ADD COLUMN lot_id TEXT REFERENCES lots(id);
CREATE INDEX stock_movements_by_lot ON stock_movements (lot_id);
