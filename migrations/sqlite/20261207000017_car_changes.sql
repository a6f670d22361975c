-- Which car each version of the cars table changed: the search index every app server keeps
-- (cars::db::index) takes in the changes since its own version before it answers, so that
-- it is never older than the data a request saw. Each insert, update and delete of a car
-- already bumps car_counts.version (20261126000007_car_counts); the triggers now also log
-- the car's id under the new version, in the same statement's transaction. Old entries are
-- pruned (an index further behind than the log reads every car again).
CREATE TABLE car_changes (
    version INTEGER PRIMARY KEY,
    car_id  INTEGER NOT NULL
);

DROP TRIGGER car_counts_insert;
DROP TRIGGER car_counts_delete;
DROP TRIGGER car_counts_update;
CREATE TRIGGER car_counts_insert AFTER INSERT ON cars BEGIN
    UPDATE car_counts
    SET available = available + (new.status = 'available'), version = version + 1
    WHERE id = 1;
    INSERT INTO car_changes (version, car_id) SELECT version, new.id FROM car_counts WHERE id = 1;
END;
CREATE TRIGGER car_counts_delete AFTER DELETE ON cars BEGIN
    UPDATE car_counts
    SET available = available - (old.status = 'available'), version = version + 1
    WHERE id = 1;
    INSERT INTO car_changes (version, car_id) SELECT version, old.id FROM car_counts WHERE id = 1;
END;
CREATE TRIGGER car_counts_update AFTER UPDATE ON cars BEGIN
    UPDATE car_counts
    SET available = available + (new.status = 'available') - (old.status = 'available'),
        version = version + 1
    WHERE id = 1;
    INSERT INTO car_changes (version, car_id) SELECT version, new.id FROM car_counts WHERE id = 1;
END;
