-- Roles of users: names as [a-z0-9_:.-]{1,64} (checked by the service). Read at login and
-- at every refresh by user_id, the primary key's first column. Deleting a user deletes
-- its roles.
CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role    TEXT    NOT NULL,
    PRIMARY KEY (user_id, role)
) WITHOUT ROWID;
