-- Catalogue search whose cost does not grow with the catalogue. Each product's name, subtitle
-- and description are cut (in Rust, src/catalogue/search_index.rs) into their distinct one- and
-- two-character pieces; a query of any length names the pieces every match must hold, and
-- the index hands back candidates that a LIKE then confirms. Trigram indexes cannot answer
-- one- and two-character queries (米, 大米), the commonest in Chinese; pieces of two can.
--
-- SQLite: a contentless FTS5 table holds the pieces (the text itself lives in products);
-- its integer rowids map to product ids through product_search_keys, whose INTEGER PRIMARY KEY
-- survives VACUUM (a products.rowid would not).
CREATE TABLE product_search_keys (
    key INTEGER PRIMARY KEY,
    product_id TEXT NOT NULL UNIQUE REFERENCES products(id) ON DELETE CASCADE
);
CREATE VIRTUAL TABLE product_search USING fts5(
    grams,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

-- pages walk these in order and stop after a page: newest first and by price
DROP INDEX products_public;
CREATE INDEX products_newest ON products (status, created_at, id);
CREATE INDEX products_by_price ON products (status, sort_price, id);
