-- refresh_tokens rebuilt for the rotation's writes: a token's hash as its 32 SHA-256 bytes
-- (BLOB) instead of 64 hex characters, which halves the entries of the token_hash index;
-- a plain INTEGER PRIMARY KEY instead of AUTOINCREMENT, so an insert no longer writes a
-- sqlite_sequence row (an id may be given again once every token of its family is gone;
-- ids are only referenced within a family). Every row is kept: unhex() converts the hashes
-- (SQLite 3.40 has no unhex(): the Migrator defines it, see models/SqliteFunctions.h), and a
-- token_hash that is not hex fails the migration (NOT NULL) rather than losing a token.
CREATE TABLE refresh_tokens_0004 (
    id             INTEGER PRIMARY KEY,
    family_id      TEXT    NOT NULL REFERENCES refresh_families(id) ON DELETE CASCADE,
    token_hash     BLOB    NOT NULL,
    parent_id      INTEGER,
    issued_ms      INTEGER NOT NULL,
    used_ms        INTEGER,
    successor_hash BLOB
);
INSERT INTO refresh_tokens_0004
    (id, family_id, token_hash, parent_id, issued_ms, used_ms, successor_hash)
    SELECT id, family_id, unhex(token_hash), parent_id, issued_ms, used_ms, unhex(successor_hash)
    FROM refresh_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_0004 RENAME TO refresh_tokens;
CREATE UNIQUE INDEX refresh_tokens_hash ON refresh_tokens(token_hash);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
