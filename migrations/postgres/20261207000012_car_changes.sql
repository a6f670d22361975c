-- Which car each version of the cars table changed: the search index every app server keeps
-- (cars::db::index) takes in the changes since its own version before it answers, so that
-- it is never older than the data a request saw. Each insert, update and delete of a car
-- already bumps car_counts.version (20261126000004_car_counts); the trigger now also logs
-- the car's id under the new version. The car_counts row stays locked until the writing
-- transaction ends, so versions become visible in order: a reader that sees version N sees
-- every change up to N. Old entries are pruned (an index further behind than the log reads
-- every car again).
CREATE TABLE car_changes (
    version bigint PRIMARY KEY,
    car_id  bigint NOT NULL
);

CREATE OR REPLACE FUNCTION car_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    change bigint := 0;
    changed bigint;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'available' THEN
        change := change + 1;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.status = 'available' THEN
        change := change - 1;
    END IF;
    UPDATE car_counts SET available = available + change, version = version + 1 WHERE id = 1
    RETURNING version INTO changed;
    INSERT INTO car_changes (version, car_id)
    VALUES (changed, CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
    RETURN NULL;
END
$$;
