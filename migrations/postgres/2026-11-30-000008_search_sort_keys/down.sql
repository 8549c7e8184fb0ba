CREATE TABLE product_search (
    product_id TEXT PRIMARY KEY NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    grams TEXT[] NOT NULL
);
INSERT INTO product_search (product_id, grams) SELECT product_id, grams FROM product_search_keys;
DROP TABLE product_search_keys;
CREATE INDEX product_search_grams ON product_search USING gin (grams);
ANALYZE product_search;
