CREATE TABLE product_search_keys_old (
    key INTEGER PRIMARY KEY,
    product_id TEXT NOT NULL UNIQUE REFERENCES products(id) ON DELETE CASCADE
);
INSERT INTO product_search_keys_old (key, product_id) SELECT key, product_id FROM product_search_keys;
DROP TABLE product_search_keys;
ALTER TABLE product_search_keys_old RENAME TO product_search_keys;
