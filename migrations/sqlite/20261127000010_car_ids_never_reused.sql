-- A listing's id is never given to another listing. Without AUTOINCREMENT, SQLite gives a
-- new row the largest id + 1, so after the newest listing was deleted the next one took
-- its id, and an old link or bookmark showed a different car. AUTOINCREMENT keeps the
-- highest id ever used (in sqlite_sequence), as PostgreSQL's identity column does.
-- SQLite cannot add it to an existing table, so the table is rebuilt with the same
-- columns, rows, indexes and triggers. No table refers to cars, and cars_fts keeps its
-- rows: they are keyed by the same ids.
DROP TRIGGER cars_fts_insert;
DROP TRIGGER cars_fts_delete;
DROP TRIGGER cars_fts_update;
DROP TRIGGER car_counts_insert;
DROP TRIGGER car_counts_delete;
DROP TRIGGER car_counts_update;

CREATE TABLE cars_rebuilt (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    seller_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    make        TEXT    NOT NULL CHECK (length(make) BETWEEN 1 AND 100),
    model       TEXT    NOT NULL CHECK (length(model) BETWEEN 1 AND 100),
    year        INTEGER NOT NULL CHECK (year >= 1886),
    price_cents INTEGER NOT NULL CHECK (price_cents > 0 AND price_cents <= 999999999999),
    mileage_km  INTEGER NOT NULL CHECK (mileage_km BETWEEN 0 AND 2000000),
    condition   TEXT    NOT NULL DEFAULT 'used' CHECK (condition IN ('new', 'used')),
    description TEXT    NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    photo       TEXT,
    image_url   TEXT    CHECK (image_url IS NULL OR image_url LIKE 'http://%' OR image_url LIKE 'https://%'),
    status      TEXT    NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'pending', 'sold')),
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
-- Inserting explicit ids also records the largest in sqlite_sequence.
INSERT INTO cars_rebuilt (id, seller_id, make, model, year, price_cents, mileage_km, condition,
                          description, photo, image_url, status, created_at, updated_at)
SELECT id, seller_id, make, model, year, price_cents, mileage_km, condition,
       description, photo, image_url, status, created_at, updated_at
FROM cars ORDER BY id;
DROP TABLE cars;
ALTER TABLE cars_rebuilt RENAME TO cars;

-- The indexes as the earlier migrations left them.
CREATE INDEX cars_status_created ON cars (status, created_at DESC, id DESC);
CREATE INDEX cars_status_price   ON cars (status, price_cents, id, year);
CREATE INDEX cars_status_year    ON cars (status, year, id);
CREATE INDEX cars_status_make    ON cars (status, make COLLATE NOCASE);
CREATE INDEX cars_seller         ON cars (seller_id, created_at DESC);
CREATE INDEX cars_id_filters     ON cars (id, status, price_cents, year, mileage_km, condition, make, created_at);

-- The triggers as 20261126000003_car_search and 20261126000007_car_counts made them.
CREATE TRIGGER cars_fts_insert AFTER INSERT ON cars BEGIN
    INSERT INTO cars_fts (rowid, make, model, description) VALUES (new.id, new.make, new.model, new.description);
END;
CREATE TRIGGER cars_fts_delete AFTER DELETE ON cars BEGIN
    INSERT INTO cars_fts (cars_fts, rowid, make, model, description)
    VALUES ('delete', old.id, old.make, old.model, old.description);
END;
CREATE TRIGGER cars_fts_update AFTER UPDATE OF make, model, description ON cars BEGIN
    INSERT INTO cars_fts (cars_fts, rowid, make, model, description)
    VALUES ('delete', old.id, old.make, old.model, old.description);
    INSERT INTO cars_fts (rowid, make, model, description) VALUES (new.id, new.make, new.model, new.description);
END;
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
