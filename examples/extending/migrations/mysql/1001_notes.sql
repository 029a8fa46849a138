-- examples/extending: the notes users with the role notes:write post (POST /api/notes).
-- Numbered from 1001, clear of authsvc's own migrations. MariaDB/MySQL: InnoDB, utf8mb4 with
-- byte-for-byte comparison, as authsvc's own tables (migrations/mysql/0001_init.sql).
CREATE TABLE example_notes (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id    BIGINT NOT NULL,
    body       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT example_notes_user_fk FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;
CREATE INDEX example_notes_user ON example_notes(user_id);
