-- A rare search sorts its candidates by the page's keys before it reads any product: each
-- product's name (for relevance), price and creation time sit beside its pieces, so the page
-- statement fetches only the few products that can be on the page instead of every candidate
-- (a 229-candidate query read 229 full products to show 20). The copies are written with the
-- pieces, by src/catalogue/search_index.rs, whenever the product is written. The table takes
-- SQLite's name for the same rows, so one diesel table serves both databases.
--
-- Rebuilt rather than updated in place: an UPDATE of every row left the table twice its size
-- and every new index entry in the GIN index's pending list, which each search then read
-- through (a rare query's index scan 0.17 -> 1.85 ms until a VACUUM).
CREATE TABLE product_search_keys (
    product_id TEXT PRIMARY KEY NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    grams TEXT[] NOT NULL,
    name TEXT NOT NULL,
    sort_price BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO product_search_keys (product_id, grams, name, sort_price, created_at)
    SELECT s.product_id, s.grams, p.name, p.sort_price, p.created_at
    FROM product_search s JOIN products p ON p.id = s.product_id;
DROP TABLE product_search;
CREATE INDEX product_search_grams ON product_search_keys USING gin (grams);
-- the rarity estimates (search_index::is_rare) come from these statistics
ANALYZE product_search_keys;
