-- Catalogue search whose cost does not grow with the catalogue. Each product's name, subtitle
-- and description are cut (in Rust, src/catalogue/search_index.rs) into their distinct one- and
-- two-character pieces; a query of any length names the pieces every match must hold, and
-- the GIN index hands back candidates that a LIKE then confirms. Trigram indexes (pg_trgm)
-- cannot answer one- and two-character queries (米, 大米), the commonest in Chinese, and
-- depend on the server's locale for CJK; pieces of two do not.
CREATE TABLE product_search (
    product_id TEXT PRIMARY KEY NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    grams TEXT[] NOT NULL
);
CREATE INDEX product_search_grams ON product_search USING gin (grams);

-- pages walk these in order and stop after a page: newest first and by price
DROP INDEX products_public;
CREATE INDEX products_newest ON products (status, created_at, id);
CREATE INDEX products_by_price ON products (status, sort_price, id);
