DROP INDEX products_by_price;
DROP INDEX products_newest;
CREATE INDEX products_public ON products (status, created_at);
DROP TABLE product_search;
