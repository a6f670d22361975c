-- How many cars are for sale, and a version of the cars table, kept by a trigger:
-- the unfiltered marketplace and API list (the most requested pages) read the count from
-- one row instead of counting an index, and list answers are cached until the version
-- moves (cars::db::ListCache). Every insert, update and delete of a car bumps it.
CREATE TABLE car_counts (
    id        integer PRIMARY KEY CHECK (id = 1),
    available bigint NOT NULL,
    version   bigint NOT NULL
);
INSERT INTO car_counts (id, available, version)
SELECT 1, COUNT(*), 0 FROM cars WHERE status = 'available';

CREATE FUNCTION car_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    change bigint := 0;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'available' THEN
        change := change + 1;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.status = 'available' THEN
        change := change - 1;
    END IF;
    UPDATE car_counts SET available = available + change, version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER car_counts_track AFTER INSERT OR DELETE OR UPDATE ON cars
FOR EACH ROW EXECUTE FUNCTION car_counts_track();
