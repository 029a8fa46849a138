-- Nothing to change on this backend: migration 9 moves SQLite's refresh_tokens into family
-- order (migrations/sqlite/0009_tokens_by_family.sql), which this backend's table and its
-- index on family_id already give a rotation's writes. Kept so that a version number names
-- the same schema on every backend; a migration holds at least one statement.
SELECT 1;
