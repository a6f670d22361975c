-- A listing's photos, in the seller's order: position 1 is the cover. `cars.photo` keeps
-- the cover's name, so the marketplace still reads a card from the `cars` row alone.
-- From here on a table refers to cars: a migration that rebuilds `cars` must turn foreign
-- keys off first, or deleting the old table would delete every photo row with it.
CREATE TABLE car_photos (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    car_id     INTEGER NOT NULL REFERENCES cars (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL CHECK (position BETWEEN 1 AND 20),
    name       TEXT    NOT NULL UNIQUE CHECK (length(name) <= 80),
    label      TEXT    CHECK (label IN ('exterior', 'interior', 'engine', 'wheels', 'documents', 'damage')),
    caption    TEXT    NOT NULL DEFAULT '' CHECK (length(caption) <= 120),
    created_at TEXT    NOT NULL
);
CREATE INDEX car_photos_car ON car_photos (car_id, position);

-- Each listing's photo so far becomes its photo 1.
INSERT INTO car_photos (car_id, position, name, created_at)
SELECT id, 1, photo, updated_at FROM cars WHERE photo IS NOT NULL ORDER BY id;

-- A listing stored with a photo (the sell form, the API, demo data) has it as photo 1.
-- A trigger, so that adding listings stays one statement and new listings can still share
-- a transaction (db::group_commit).
CREATE TRIGGER car_photos_first AFTER INSERT ON cars WHEN NEW.photo IS NOT NULL
BEGIN
    INSERT INTO car_photos (car_id, position, name, created_at)
    VALUES (NEW.id, 1, NEW.photo, NEW.created_at);
END;
