-- Who belongs to which team, and with which role.
CREATE TABLE team_memberships (
    team_id   INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'member')),
    joined_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (team_id, user_id)
);

-- "which teams is this user in?"
CREATE INDEX team_memberships_user_id_idx ON team_memberships (user_id);
