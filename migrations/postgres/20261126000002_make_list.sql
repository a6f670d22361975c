-- The Make filter's list walks this index one make at a time (a few dozen seeks),
-- instead of grouping every available car.
CREATE INDEX cars_status_make_exact ON cars (status, make);
