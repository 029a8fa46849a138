-- Limit counters shared by the instances (auth.limits_store: database, issue 24). The
-- MySQL twin of migrations/postgresql/0008. One row per counter key and time bucket:
-- `hits` events in [bucket_ms, bucket_ms + the scope's bucket length). counter_key is a
-- hash of the scope and the counted key (32 hex characters: services/DatabaseLimitCounter):
-- no address in clear. An add is one INSERT ... ON DUPLICATE KEY UPDATE; a conditional add
-- (a check) is a short transaction that writes its bucket's row before it counts (see
-- models/LimitCounterRepository.cpp); the scheduler deletes rows whose window has passed
-- (expires_ms).
CREATE TABLE limit_counters (
    counter_key VARCHAR(64) NOT NULL,
    bucket_ms   BIGINT      NOT NULL,
    hits        INT         NOT NULL,
    expires_ms  BIGINT      NOT NULL,
    PRIMARY KEY (counter_key, bucket_ms)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;
CREATE INDEX limit_counters_expiry ON limit_counters(expires_ms);
