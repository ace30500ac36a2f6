-- pair layout: <version>_<name>.up.sql + .down.sql
CREATE TABLE users (
    id    integer PRIMARY KEY,
    login text NOT NULL UNIQUE
);
