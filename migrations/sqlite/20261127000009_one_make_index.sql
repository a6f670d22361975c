-- One index for the make: the Make filter matches it case-insensitively, and its list of
-- makes now walks the same case-insensitive index (one entry per make, however sellers
-- spelled its case). Each new listing updates one index less.
DROP INDEX cars_status_make_exact;
