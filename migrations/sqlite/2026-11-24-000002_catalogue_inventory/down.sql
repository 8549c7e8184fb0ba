DROP TABLE idempotency_keys;
DROP TABLE stock_movements;
DROP TABLE stock;
DROP TABLE sku_tiers;
DROP TABLE skus;
DROP TABLE products;
DROP TABLE categories;
DROP TABLE warehouses;
