-- migrate:up
CREATE TABLE t_drift.teams (id integer PRIMARY KEY);
-- migrate:down
DROP TABLE t_drift.teams;
