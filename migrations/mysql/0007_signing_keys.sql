-- Signing keys in the database (issue 24, jwt.key_store: database). services/DatabaseKeys.
-- The MySQL twin of migrations/postgresql/0007: the same columns and rules. One row per
-- key: the private key only sealed (hex of the libsodium XChaCha20-Poly1305 IETF nonce and
-- ciphertext of its PKCS#8 PEM under jwt.key_encryption_key, the kid as associated data),
-- never in clear; the public JWK and its RFC 7638 thumbprint beside it.
-- state: next (published, not signing), current (signs), retired (published until its last
-- token expired); a deleted key's row is gone. slot is 'next' or 'current' for those
-- states and NULL otherwise: its unique key lets at most one key be next and one be current
-- (NULLs are distinct), so two instances never both create or promote a key: the loser's
-- INSERT fails with 1062 (duplicate key) or, on Galera, its COMMIT with 1213. kid is at
-- most 64 characters (KeyRing's isValidKid). Times in ms.
CREATE TABLE signing_keys (
    kid          VARCHAR(64) NOT NULL PRIMARY KEY,
    algorithm    VARCHAR(16) NOT NULL,
    state        VARCHAR(16) NOT NULL,
    slot         VARCHAR(16) NULL UNIQUE,
    sealed_key   TEXT        NOT NULL,
    public_jwk   TEXT        NOT NULL,
    thumbprint   VARCHAR(64) NOT NULL,
    created_ms   BIGINT      NOT NULL,
    promoted_ms  BIGINT      NULL,
    retired_ms   BIGINT      NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;
