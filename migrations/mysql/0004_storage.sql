-- A refresh token's hash as its 32 SHA-256 bytes (BINARY(32)) instead of 64 hex characters,
-- which halves the entries of the token_hash index. Every row is kept: UNHEX() converts the
-- hashes, and one that is not hex (UNHEX gives NULL) fails the migration (NOT NULL, strict
-- mode). MySQL commits each ALTER by itself: a failed run is repeated whole.
ALTER TABLE refresh_tokens MODIFY token_hash VARBINARY(64) NOT NULL, MODIFY successor_hash VARBINARY(64);
UPDATE refresh_tokens SET token_hash = UNHEX(token_hash), successor_hash = UNHEX(successor_hash);
ALTER TABLE refresh_tokens MODIFY token_hash BINARY(32) NOT NULL, MODIFY successor_hash BINARY(32);
