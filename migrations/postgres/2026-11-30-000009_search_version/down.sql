DROP TABLE product_search_version;
