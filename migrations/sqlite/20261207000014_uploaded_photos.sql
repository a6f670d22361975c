-- Photos a seller's browser uploaded ahead, while the sell or edit form is filled in (see
-- cars::uploads). A row leaves this table when a listing takes its photo, or when the
-- background sweep deletes it, and the photo's files, a day after the upload. Each row
-- leaves by one DELETE ... RETURNING, so the photo goes to exactly one of the two.
-- An account's deletion must remove its uploads (and their files) first.
CREATE TABLE uploaded_photos (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id   INTEGER NOT NULL REFERENCES users (id),
    name       TEXT    NOT NULL UNIQUE CHECK (length(name) <= 80),
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX uploaded_photos_owner ON uploaded_photos (owner_id, id);
CREATE INDEX uploaded_photos_age ON uploaded_photos (created_at);
