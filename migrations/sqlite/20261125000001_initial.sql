-- Users and their car listings. Times are UTC, stored as RFC 3339 text.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL COLLATE NOCASE UNIQUE
                          CHECK (length(username) BETWEEN 3 AND 30),
    email         TEXT    COLLATE NOCASE UNIQUE CHECK (email IS NULL OR length(email) <= 254),
    password_hash TEXT    NOT NULL,
    created_at    TEXT    NOT NULL
);

CREATE TABLE cars (
    id          INTEGER PRIMARY KEY,
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

-- The marketplace only shows available cars, newest first by default,
-- and sorts or filters by price, year and make.
CREATE INDEX cars_status_created ON cars (status, created_at DESC, id DESC);
CREATE INDEX cars_status_price   ON cars (status, price_cents, id);
CREATE INDEX cars_status_year    ON cars (status, year, id);
CREATE INDEX cars_status_make    ON cars (status, make COLLATE NOCASE);
CREATE INDEX cars_seller         ON cars (seller_id, created_at DESC);
