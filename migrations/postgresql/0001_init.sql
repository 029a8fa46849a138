-- Users, and refresh-token families with their tokens. Times are epoch integers:
-- users.created_at in seconds, everything refresh-related in milliseconds (the grace
-- window is timed to the millisecond). Only SHA-256 hashes of refresh tokens are stored.
-- One statement per ";" at the end of a line (kept alike for both dialects).
CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);
CREATE TABLE refresh_families (
    id            TEXT    PRIMARY KEY,
    user_id       BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_ms    BIGINT  NOT NULL,
    expires_ms    BIGINT  NOT NULL,
    revoked_ms    BIGINT,
    revoke_reason TEXT
);
CREATE INDEX refresh_families_user ON refresh_families(user_id);
CREATE INDEX refresh_families_expires ON refresh_families(expires_ms);
CREATE INDEX refresh_families_revoked ON refresh_families(revoked_ms) WHERE revoked_ms IS NOT NULL;
CREATE TABLE refresh_tokens (
    id             BIGSERIAL PRIMARY KEY,
    family_id      TEXT    NOT NULL REFERENCES refresh_families(id) ON DELETE CASCADE,
    token_hash     TEXT    NOT NULL UNIQUE,
    parent_id      BIGINT,
    issued_ms      BIGINT  NOT NULL,
    used_ms        BIGINT,
    successor_hash TEXT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
