-- A rare search sorts its candidates by the page's keys before it reads any product: each
-- product's name (for relevance), price and creation time sit beside its pieces, so the page
-- statement fetches only the few products that can be on the page instead of every candidate
-- (a 229-candidate query read 229 full products to show 20). The copies are written with the
-- pieces, by src/catalogue/search_index.rs, whenever the product is written. The table takes
-- SQLite's name for the same rows, so one diesel table serves both databases.
ALTER TABLE product_search RENAME TO product_search_keys;
ALTER TABLE product_search_keys
    ADD COLUMN name TEXT,
    ADD COLUMN sort_price BIGINT,
    ADD COLUMN created_at TIMESTAMP;
UPDATE product_search_keys k
    SET name = p.name, sort_price = p.sort_price, created_at = p.created_at
    FROM products p WHERE p.id = k.product_id;
ALTER TABLE product_search_keys
    ALTER COLUMN name SET NOT NULL,
    ALTER COLUMN sort_price SET NOT NULL,
    ALTER COLUMN created_at SET NOT NULL;
