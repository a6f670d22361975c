-- Where a listing's car is: a town of the gazetteer (src/geo, its GeoNames id) and that
-- town's coordinates in degrees, copied so a distance search reads them from the car's
-- row. Listings from before this migration have no town (NULL): they show none and no
-- distance search finds them until their seller names one.
ALTER TABLE cars ADD COLUMN town_id INTEGER;
ALTER TABLE cars ADD COLUMN latitude REAL;
ALTER TABLE cars ADD COLUMN longitude REAL;
-- "Near <town> within N km": the index narrows the search to a band of latitudes (then
-- longitudes) before the exact distance is worked out for the cars inside it.
CREATE INDEX cars_available_place ON cars (latitude, longitude) WHERE status = 'available';
