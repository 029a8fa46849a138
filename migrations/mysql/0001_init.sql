-- Users, and refresh-token families with their tokens. Times are epoch integers:
-- users.created_at in seconds, everything refresh-related in milliseconds (the grace
-- window is timed to the millisecond). Only SHA-256 hashes of refresh tokens are stored.
-- One statement per ";" at the end of a line (kept alike for every dialect).
-- MariaDB/MySQL: InnoDB, utf8mb4, and every table's text compared byte for byte with
-- utf8mb4_nopad_bin, as PostgreSQL compares: 'jose@example.com' and 'josé@example.com' are
-- two emails, and so are 'a@example.com' and 'a@example.com ' (utf8mb4_bin would pad: equal).
-- Indexed text has a length (VARCHAR); emails are at most 254 characters (common/Validation).
CREATE TABLE users (
    id            BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email         VARCHAR(254) NOT NULL UNIQUE,
    password_hash TEXT         NOT NULL,
    created_at    BIGINT       NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;
CREATE TABLE refresh_families (
    id            VARCHAR(64) NOT NULL PRIMARY KEY,
    user_id       BIGINT      NOT NULL,
    created_ms    BIGINT      NOT NULL,
    expires_ms    BIGINT      NOT NULL,
    revoked_ms    BIGINT,
    revoke_reason TEXT,
    CONSTRAINT refresh_families_user_fk FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;
CREATE INDEX refresh_families_user ON refresh_families(user_id);
CREATE INDEX refresh_families_expires ON refresh_families(expires_ms);
-- No partial indexes in MySQL: the whole column.
CREATE INDEX refresh_families_revoked ON refresh_families(revoked_ms);
CREATE TABLE refresh_tokens (
    id             BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    family_id      VARCHAR(64) NOT NULL,
    token_hash     VARCHAR(64) NOT NULL UNIQUE,
    parent_id      BIGINT,
    issued_ms      BIGINT      NOT NULL,
    used_ms        BIGINT,
    successor_hash VARCHAR(64),
    CONSTRAINT refresh_tokens_family_fk FOREIGN KEY (family_id) REFERENCES refresh_families(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
