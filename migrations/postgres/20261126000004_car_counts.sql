-- How many cars are for sale, kept by a trigger, so the unfiltered marketplace and API
-- list (the most requested pages) read one row instead of counting an index.
CREATE TABLE car_counts (
    id        integer PRIMARY KEY CHECK (id = 1),
    available bigint NOT NULL
);
INSERT INTO car_counts (id, available) SELECT 1, COUNT(*) FROM cars WHERE status = 'available';

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
    IF change <> 0 THEN
        UPDATE car_counts SET available = available + change WHERE id = 1;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER car_counts_track AFTER INSERT OR DELETE OR UPDATE OF status ON cars
FOR EACH ROW EXECUTE FUNCTION car_counts_track();
