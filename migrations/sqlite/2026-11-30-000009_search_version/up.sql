-- Counts the writes to the text index (src/catalogue/search_index.rs bumps it in the same
-- transaction as each product's entry). An instance remembers a rare query's candidates, with
-- their sort keys, under the count it read before reading them, and uses them again only
-- while the count is unchanged: a page then skips the index and the keys altogether.
CREATE TABLE product_search_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO product_search_version (id, n) VALUES (1, 0);
