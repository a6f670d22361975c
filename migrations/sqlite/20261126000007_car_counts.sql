-- How many cars are for sale, kept by triggers, so the unfiltered marketplace and API
-- list (the most requested pages) read one row instead of counting an index.
CREATE TABLE car_counts (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    available INTEGER NOT NULL
);
INSERT INTO car_counts (id, available) SELECT 1, COUNT(*) FROM cars WHERE status = 'available';

CREATE TRIGGER car_counts_insert AFTER INSERT ON cars WHEN new.status = 'available' BEGIN
    UPDATE car_counts SET available = available + 1 WHERE id = 1;
END;
CREATE TRIGGER car_counts_delete AFTER DELETE ON cars WHEN old.status = 'available' BEGIN
    UPDATE car_counts SET available = available - 1 WHERE id = 1;
END;
CREATE TRIGGER car_counts_update AFTER UPDATE OF status ON cars
WHEN (old.status = 'available') <> (new.status = 'available') BEGIN
    UPDATE car_counts
    SET available = available + CASE WHEN new.status = 'available' THEN 1 ELSE -1 END
    WHERE id = 1;
END;
