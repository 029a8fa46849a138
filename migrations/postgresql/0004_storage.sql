-- A refresh token's hash as its 32 SHA-256 bytes (bytea) instead of 64 hex characters,
-- which halves the entries of the token_hash index. Every row is kept: decode() converts
-- the hashes in the same rewrite of the table, and one that is not hex fails the migration.
ALTER TABLE refresh_tokens
    ALTER COLUMN token_hash TYPE bytea USING decode(token_hash, 'hex'),
    ALTER COLUMN successor_hash TYPE bytea USING decode(successor_hash, 'hex');
