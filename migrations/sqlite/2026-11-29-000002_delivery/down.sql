DROP INDEX fulfilments_by_ship_by;
ALTER TABLE fulfilments DROP COLUMN departure_cutoff;
ALTER TABLE fulfilments DROP COLUMN estimated_delivery;
ALTER TABLE fulfilments DROP COLUMN ship_by;
ALTER TABLE fulfilments DROP COLUMN weight_grams;
DROP TABLE departure_bookings;
ALTER TABLE cooperatives DROP COLUMN departures;
ALTER TABLE shipping_rates DROP COLUMN transit_days;
