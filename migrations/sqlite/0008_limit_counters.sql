-- Limit counters shared by the instances (auth.limits_store: database, issue 24). One row
-- per counter key and time bucket: `hits` events in [bucket_ms, bucket_ms + the scope's
-- bucket length). counter_key is a hash of the scope and the counted key (a client address
-- or an email): no address in clear. A check is one statement (a conditional upsert that
-- returns the new count, or a select of the key's rows), so it is atomic without row locks
-- of ours; the scheduler deletes rows whose window has passed (expires_ms).
CREATE TABLE limit_counters (
    counter_key TEXT    NOT NULL,
    bucket_ms   INTEGER NOT NULL,
    hits        INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    PRIMARY KEY (counter_key, bucket_ms)
);
CREATE INDEX limit_counters_expiry ON limit_counters(expires_ms);
