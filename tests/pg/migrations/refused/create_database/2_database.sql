-- migrate:up
CREATE TABLE rf_t (id integer);
CREATE DATABASE migrate_never;
-- migrate:down
DROP TABLE rf_t;
