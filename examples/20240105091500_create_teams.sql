-- migrate:up
-- A team (workspace) owns projects and pays for a subscription.
CREATE TABLE teams (
    id         INTEGER PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    owner_id   INTEGER NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX teams_owner_id_idx ON teams (owner_id);

-- migrate:down
DROP INDEX teams_owner_id_idx;
DROP TABLE teams;
