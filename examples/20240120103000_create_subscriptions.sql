-- migrate:up
-- One row per period a team is on a plan; the open one has ended_at NULL.
CREATE TABLE subscriptions (
    id         INTEGER PRIMARY KEY,
    team_id    INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    plan_id    INTEGER NOT NULL REFERENCES plans (id),
    status     TEXT NOT NULL DEFAULT 'active',
    started_at TIMESTAMP NOT NULL,
    ended_at   TIMESTAMP
);

CREATE INDEX subscriptions_team_id_idx ON subscriptions (team_id);
CREATE INDEX subscriptions_plan_id_idx ON subscriptions (plan_id);

-- migrate:down
DROP TABLE subscriptions;
