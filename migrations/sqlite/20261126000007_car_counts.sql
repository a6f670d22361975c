-- How many cars are for sale, and a version of the cars table, kept by triggers:
-- the unfiltered marketplace and API list (the most requested pages) read the count from
-- one row instead of counting an index, and list answers are cached until the version
-- moves (cars::db::ListCache). Every insert, update and delete of a car bumps it.
CREATE TABLE car_counts (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    available INTEGER NOT NULL,
    version   INTEGER NOT NULL
);
INSERT INTO car_counts (id, available, version)
SELECT 1, COUNT(*), 0 FROM cars WHERE status = 'available';

CREATE TRIGGER car_counts_insert AFTER INSERT ON cars BEGIN
    UPDATE car_counts
    SET available = available + (new.status = 'available'), version = version + 1
    WHERE id = 1;
END;
CREATE TRIGGER car_counts_delete AFTER DELETE ON cars BEGIN
    UPDATE car_counts
    SET available = available - (old.status = 'available'), version = version + 1
    WHERE id = 1;
END;
CREATE TRIGGER car_counts_update AFTER UPDATE ON cars BEGIN
    UPDATE car_counts
    SET available = available + (new.status = 'available') - (old.status = 'available'),
        version = version + 1
    WHERE id = 1;
END;
