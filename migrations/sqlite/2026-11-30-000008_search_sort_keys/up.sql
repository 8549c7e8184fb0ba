-- A rare search sorts its candidates by the page's keys before it reads any product: each
-- product's name (for relevance), price and creation time sit beside its index entry, so the
-- page statement fetches only the few products that can be on the page instead of every
-- candidate (a 229-candidate query read 229 full products to show 20). The copies are written
-- with the index entry, by src/catalogue/search_index.rs, whenever the product is written.
CREATE TABLE product_search_keys_new (
    key INTEGER PRIMARY KEY,
    product_id TEXT NOT NULL UNIQUE REFERENCES products(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    sort_price BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO product_search_keys_new (key, product_id, name, sort_price, created_at)
    SELECT k.key, k.product_id, p.name, p.sort_price, p.created_at
    FROM product_search_keys k JOIN products p ON p.id = k.product_id;
DROP TABLE product_search_keys;
ALTER TABLE product_search_keys_new RENAME TO product_search_keys;
