-- Delivery: transit days per rate, co-ops' cold-truck timetables, booked truck capacity, and
-- each fulfilment's ship-by and delivery dates (dates as 'YYYY-MM-DD', China time).
ALTER TABLE shipping_rates ADD COLUMN transit_days INTEGER NOT NULL DEFAULT 3
    CHECK (transit_days >= 0 AND transit_days <= 60);
-- most goods leave Hegang: to Guangdong cold trucks take 3 days, ambient freight 4; within
-- Heilongjiang 1-2; elsewhere a day more than to Guangdong
UPDATE shipping_rates SET transit_days = CASE
    WHEN province = '广东省' AND storage = 'ambient' THEN 4
    WHEN province = '广东省' THEN 3
    WHEN province = '黑龙江省' AND storage = 'ambient' THEN 2
    WHEN province = '黑龙江省' THEN 1
    WHEN storage = 'ambient' THEN 5
    ELSE 4
END;

-- The timetable as the co-op wrote it: JSON [{weekday, cutoff, capacity_kg}], null for none.
ALTER TABLE cooperatives ADD COLUMN departures TEXT;

-- Weight booked on one departure of one co-op's truck.
CREATE TABLE departure_bookings (
    cooperative_id TEXT NOT NULL REFERENCES cooperatives(id),
    departs_on TEXT NOT NULL,
    cutoff TEXT NOT NULL,
    capacity_grams BIGINT NOT NULL CHECK (capacity_grams > 0),
    booked_grams BIGINT NOT NULL CHECK (booked_grams >= 0),
    CHECK (booked_grams <= capacity_grams),
    PRIMARY KEY (cooperative_id, departs_on, cutoff)
);

ALTER TABLE fulfilments ADD COLUMN weight_grams BIGINT NOT NULL DEFAULT 0 CHECK (weight_grams >= 0);
ALTER TABLE fulfilments ADD COLUMN ship_by TEXT;
ALTER TABLE fulfilments ADD COLUMN estimated_delivery TEXT;
-- the departure's cut-off when the fulfilment holds weight on a truck (null: none to give back)
ALTER TABLE fulfilments ADD COLUMN departure_cutoff TEXT;
CREATE INDEX fulfilments_by_ship_by ON fulfilments (cooperative_id, ship_by);
