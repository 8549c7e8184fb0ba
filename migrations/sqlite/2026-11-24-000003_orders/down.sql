DROP TABLE refunds;
DROP TABLE payments;
DROP TABLE order_items;
DROP TABLE fulfilments;
DROP TABLE orders;
DROP TABLE shipping_rates;
DROP TABLE cart_items;
DELETE FROM counters WHERE name = 'order_number';
