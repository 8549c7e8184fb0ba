DROP TABLE shipment_events;
DROP TABLE shipment_items;
DROP TABLE shipments;
