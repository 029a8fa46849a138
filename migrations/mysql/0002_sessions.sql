-- Sessions as their owner sees them (GET /api/sessions): the User-Agent (at most 200
-- characters) and client address seen at the login that started a family. Families made
-- before this migration keep NULL in both. Listing a user's sessions walks
-- refresh_families_user_created in order (newest first) and stops at its limit; that
-- index also serves every lookup by user_id the old refresh_families_user did (and the
-- foreign key to users, so the old one may go).
ALTER TABLE refresh_families ADD COLUMN user_agent TEXT;
ALTER TABLE refresh_families ADD COLUMN ip TEXT;
CREATE INDEX refresh_families_user_created ON refresh_families(user_id, created_ms);
DROP INDEX refresh_families_user ON refresh_families;
