-- Counting matches reads only these narrow indexes, never the wide car rows (whose
-- descriptions spread them over many pages).
-- A search starts from FTS5 and checks each match's status and filters here, by id.
CREATE INDEX cars_id_filters ON cars (id, status, price_cents, year, mileage_km, condition, make, created_at);
-- A price range with a year bound (the API's common filter) without a row lookup per car.
CREATE INDEX cars_status_price_year ON cars (status, price_cents, year);
