-- examples/extending: the notes users with the role notes:write post (POST /api/notes).
-- Numbered from 1001, clear of authsvc's own migrations.
CREATE TABLE example_notes (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    body       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);
CREATE INDEX example_notes_user ON example_notes(user_id);
