-- Browsers that have signed in to an account (OWASP's device cookies). Failed log-ins
-- that lock an account lock out unknown clients only: a browser listed here keeps its own
-- counter, so a stranger who knows a seller's public username cannot lock the seller out.
-- Only a SHA-256 hash of each cookie is stored.
CREATE TABLE known_devices (
    token_hash TEXT    PRIMARY KEY CHECK (length(token_hash) = 64),
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL
);
CREATE INDEX known_devices_user ON known_devices (user_id);
