-- One index for both uses of the price: (status, price_cents, id) gives a page in price
-- order, and the year beside it lets a price range with a year bound (the API's common
-- filter) be checked and counted without reading the car's row. It replaces
-- cars_status_price and cars_status_price_year, so a new listing updates one index less.
DROP INDEX cars_status_price_year;
DROP INDEX cars_status_price;
CREATE INDEX cars_status_price ON cars (status, price_cents, id, year);
