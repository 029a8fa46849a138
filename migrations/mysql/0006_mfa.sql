-- A second factor: TOTP (RFC 6238) with recovery codes (issue 22). services/MfaService.
-- user_totp: one row per user with TOTP; the secret only as hex of the libsodium
-- XChaCha20-Poly1305 nonce and ciphertext under auth.mfa.encryption_key (the user id is the
-- associated data), never in clear. confirmed 0 while enrolment is pending; last_step is the
-- last time step (unix seconds / 30) whose code was accepted: a code of that step or an
-- earlier one is refused (no replay). Times in ms.
CREATE TABLE user_totp (
    user_id    BIGINT  NOT NULL PRIMARY KEY,
    secret     TEXT    NOT NULL,
    confirmed  INTEGER NOT NULL DEFAULT 0,
    last_step  BIGINT,
    created_ms BIGINT  NOT NULL,
    CONSTRAINT user_totp_user_fk FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;
-- Recovery codes: only a keyed hash (HMAC-SHA256, hex) of each code; a used code is deleted.
CREATE TABLE mfa_recovery_codes (
    code_hash VARCHAR(64) NOT NULL PRIMARY KEY,
    user_id   BIGINT      NOT NULL,
    CONSTRAINT mfa_recovery_codes_user_fk FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;
CREATE INDEX mfa_recovery_codes_user ON mfa_recovery_codes(user_id);
-- The token of a login's second step: SHA-256 (hex) of it, the user, expiry, wrong codes so
-- far (five void it) and when it was used (a used token is refused).
CREATE TABLE mfa_tokens (
    token_hash VARCHAR(64) NOT NULL PRIMARY KEY,
    user_id    BIGINT      NOT NULL,
    expires_ms BIGINT      NOT NULL,
    failures   INTEGER     NOT NULL DEFAULT 0,
    used_ms    BIGINT,
    CONSTRAINT mfa_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;
CREATE INDEX mfa_tokens_expires ON mfa_tokens(expires_ms);
-- The authentication methods of a session (RFC 8176 amr values, space separated), kept by
-- its refreshes; NULL for a password-only login ("pwd").
ALTER TABLE refresh_families ADD COLUMN amr TEXT;
