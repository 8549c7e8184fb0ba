-- Hegang side shipping: parcels with tracking, the items in each, cold-chain events.
CREATE TABLE shipments (
    id TEXT PRIMARY KEY NOT NULL,
    fulfilment_id TEXT NOT NULL REFERENCES fulfilments(id),
    order_id TEXT NOT NULL REFERENCES orders(id),
    cooperative_id TEXT NOT NULL REFERENCES cooperatives(id),
    carrier TEXT NOT NULL,
    tracking_number TEXT NOT NULL,
    cold_chain BOOLEAN NOT NULL,
    storage TEXT NOT NULL CHECK (storage IN ('ambient', 'chilled', 'frozen')),
    status TEXT NOT NULL CHECK (status IN ('in_transit', 'out_for_delivery', 'delivered', 'exception')),
    excursions INTEGER NOT NULL,
    delivered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX shipments_order ON shipments (order_id);
CREATE INDEX shipments_fulfilment ON shipments (fulfilment_id);

CREATE TABLE shipment_items (
    shipment_id TEXT NOT NULL REFERENCES shipments(id),
    order_item_id TEXT NOT NULL REFERENCES order_items(id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (shipment_id, order_item_id)
);

CREATE TABLE shipment_events (
    id TEXT PRIMARY KEY NOT NULL,
    shipment_id TEXT NOT NULL REFERENCES shipments(id),
    status TEXT NOT NULL CHECK (status IN ('in_transit', 'out_for_delivery', 'delivered', 'exception')),
    occurred_at TIMESTAMP NOT NULL,
    location TEXT,
    note TEXT,
    temperature_celsius DOUBLE PRECISION,
    excursion BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX shipment_events_shipment ON shipment_events (shipment_id, occurred_at);
