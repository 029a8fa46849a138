-- refresh_tokens stored in family order (WITHOUT ROWID, PRIMARY KEY (family_id, id)): a
-- rotation marks its token used and inserts the successor on the same leaf page, and the
-- primary key serves what refresh_tokens_family did (a family's tokens, the cascade from
-- refresh_families). Before, a rotation dirtied the used token's page, the table's last
-- page and a leaf of refresh_tokens_family, each a page of the write-ahead log. ids stay
-- what they were (unique in the whole table, so in each family); a new token's id is the
-- largest of its family plus one. Every row is kept.
CREATE TABLE refresh_tokens_0009 (
    family_id      TEXT    NOT NULL REFERENCES refresh_families(id) ON DELETE CASCADE,
    id             INTEGER NOT NULL,
    token_hash     BLOB    NOT NULL,
    parent_id      INTEGER,
    issued_ms      INTEGER NOT NULL,
    used_ms        INTEGER,
    successor_hash BLOB,
    PRIMARY KEY (family_id, id)
) WITHOUT ROWID;
INSERT INTO refresh_tokens_0009
    (family_id, id, token_hash, parent_id, issued_ms, used_ms, successor_hash)
    SELECT family_id, id, token_hash, parent_id, issued_ms, used_ms, successor_hash
    FROM refresh_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_0009 RENAME TO refresh_tokens;
CREATE UNIQUE INDEX refresh_tokens_hash ON refresh_tokens(token_hash);
