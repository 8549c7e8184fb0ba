-- After-sales claims (售后): what a buyer, the cold chain or a receiving inspection says went
-- wrong with delivered goods, and the refund that settles it. Units under claim are counted on
-- their order item, so no interleaving of claims claims more than was shipped.
ALTER TABLE order_items ADD COLUMN claimed_quantity BIGINT NOT NULL DEFAULT 0
    CHECK (claimed_quantity >= 0 AND claimed_quantity <= shipped_quantity);

CREATE TABLE claims (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders(id),
    cooperative_id TEXT NOT NULL REFERENCES cooperatives(id),
    opened_by TEXT REFERENCES users(id),
    kind TEXT NOT NULL CHECK (kind IN ('refund_only', 'return_and_refund')),
    reason TEXT NOT NULL CHECK (reason IN ('damaged', 'spoiled', 'short', 'temperature', 'quality', 'other')),
    origin TEXT NOT NULL CHECK (origin IN ('buyer', 'cold_chain', 'inspection')),
    status TEXT NOT NULL CHECK (status IN ('open', 'approved', 'rejected', 'awaiting_return', 'escalated')),
    requested_amount BIGINT NOT NULL CHECK (requested_amount >= 0),
    approved_amount BIGINT CHECK (approved_amount >= 0 AND approved_amount <= requested_amount),
    evidence TEXT NOT NULL,
    readings TEXT NOT NULL,
    note TEXT,
    rejection_reason TEXT,
    -- the parcel a cold-chain or inspection claim is about
    shipment_id TEXT REFERENCES shipments(id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP
);
CREATE UNIQUE INDEX claims_cold_chain_once ON claims (shipment_id) WHERE origin = 'cold_chain';
CREATE INDEX claims_order ON claims (order_id);
CREATE INDEX claims_cooperative ON claims (cooperative_id, status, created_at);

CREATE TABLE claim_items (
    claim_id TEXT NOT NULL REFERENCES claims(id),
    order_item_id TEXT NOT NULL REFERENCES order_items(id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    amount BIGINT NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (claim_id, order_item_id)
);

ALTER TABLE refunds ADD COLUMN claim_id TEXT REFERENCES claims(id);
CREATE UNIQUE INDEX refunds_claim_once ON refunds (claim_id) WHERE claim_id IS NOT NULL;
