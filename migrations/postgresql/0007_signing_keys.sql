-- Signing keys in the database (issue 24, jwt.key_store: database). services/DatabaseKeys.
-- One row per key: the private key only sealed (hex of the libsodium XChaCha20-Poly1305
-- IETF nonce and ciphertext of its PKCS#8 PEM under jwt.key_encryption_key, the kid as
-- associated data), never in clear; the public JWK and its RFC 7638 thumbprint beside it.
-- state: next (published, not signing), current (signs), retired (published until its last
-- token expired); a deleted key's row is gone. slot is 'next' or 'current' for those
-- states and NULL otherwise: its unique constraint lets at most one key be next and one be
-- current, so two instances never both create or promote a key (NULLs are distinct).
-- Times in ms.
CREATE TABLE signing_keys (
    kid          TEXT    PRIMARY KEY,
    algorithm    TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    slot         TEXT    UNIQUE,
    sealed_key   TEXT    NOT NULL,
    public_jwk   TEXT    NOT NULL,
    thumbprint   TEXT    NOT NULL,
    created_ms   BIGINT  NOT NULL,
    promoted_ms  BIGINT,
    retired_ms   BIGINT
);
