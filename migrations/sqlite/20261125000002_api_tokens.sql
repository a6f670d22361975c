-- API tokens (DRF TokenAuthentication style). Only a SHA-256 hash of each key is
-- stored: a leaked database does not hand out working tokens.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT    NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    created_at   TEXT    NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
