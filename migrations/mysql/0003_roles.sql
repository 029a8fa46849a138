-- Roles of users: names as [a-z0-9_:.-]{1,64} (checked by the service). Read at login and
-- at every refresh by user_id, the primary key's first column. Deleting a user deletes
-- its roles.
CREATE TABLE user_roles (
    user_id BIGINT      NOT NULL,
    role    VARCHAR(64) NOT NULL,
    PRIMARY KEY (user_id, role),
    CONSTRAINT user_roles_user_fk FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin;
