DROP INDEX stock_movements_by_lot;
ALTER TABLE stock_movements DROP COLUMN lot_id;
DROP TABLE shipment_lots;
DROP TABLE lot_allocations;
DROP TABLE lots;
ALTER TABLE organizations DROP COLUMN min_remaining_shelf_life_days;
ALTER TABLE skus DROP COLUMN lot_tracked;
