ALTER TABLE product_search_keys DROP COLUMN name, DROP COLUMN sort_price, DROP COLUMN created_at;
ALTER TABLE product_search_keys RENAME TO product_search;
