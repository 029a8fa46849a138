-- The mail outbox and one-time tokens (issue 22). A message is queued in the transaction of
-- the change it announces and delivered later by a sender (services/MailSender): status
-- 'queued' until delivered ('sent'), found nothing to send ('skipped': e.g. a recovery
-- request for an unknown address) or gave up after the bounded attempts ('dead', last_error
-- kept). A sender claims a row with a conditional UPDATE of lease_owner and
-- lease_expires_ms (no row locks: the same on every backend). `address` is the address a
-- request named (password recovery: resolved by the sender, so the request itself does the
-- same work for known and unknown addresses); `user_id` the user a notice is for. Times in ms.
CREATE TABLE mail_outbox (
    id               BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind             VARCHAR(64) NOT NULL,
    status           VARCHAR(16) NOT NULL DEFAULT 'queued',
    user_id          BIGINT,
    address          TEXT,
    created_ms       BIGINT      NOT NULL,
    next_attempt_ms  BIGINT      NOT NULL,
    attempts         INTEGER     NOT NULL DEFAULT 0,
    lease_owner      VARCHAR(255),
    lease_expires_ms BIGINT,
    last_error       TEXT,
    done_ms          BIGINT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;
CREATE INDEX mail_outbox_due ON mail_outbox(status, next_attempt_ms);
-- One-time tokens (password recovery, later email verification): only the SHA-256 of the
-- token (64 hex characters) is stored, with its purpose, user and expiry. A new token of a purpose
-- deletes the user's older ones of that purpose (voids them); consuming deletes the row, so
-- an unknown, used, voided or expired token look alike. Deleting a user deletes their tokens.
CREATE TABLE one_time_tokens (
    token_hash VARCHAR(64) NOT NULL PRIMARY KEY,
    purpose    VARCHAR(64) NOT NULL,
    user_id    BIGINT      NOT NULL,
    data       TEXT,
    created_ms BIGINT      NOT NULL,
    expires_ms BIGINT      NOT NULL,
    CONSTRAINT one_time_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;
CREATE INDEX one_time_tokens_user ON one_time_tokens(user_id, purpose);
-- Email verification (auth.email_verification): 1 when the address is verified. Users who
-- existed before count as verified (the default), so turning `required` on locks nobody
-- out; a user registered while verification is on starts at 0.
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 1;
