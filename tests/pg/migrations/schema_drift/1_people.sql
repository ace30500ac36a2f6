-- migrate:up
CREATE SCHEMA t_drift;
CREATE TABLE t_drift.people (
    id integer PRIMARY KEY,
    email text NOT NULL,
    nick text DEFAULT 'anon',
    born date
);
-- migrate:down
DROP SCHEMA t_drift CASCADE;
