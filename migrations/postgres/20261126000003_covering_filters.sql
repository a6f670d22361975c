-- A price range with a year bound (the API's common filter) counted by an index-only scan,
-- without visiting each car's row.
CREATE INDEX cars_status_price_year ON cars (status, price_cents, year);
