CREATE SCHEMA ef_notnull;
CREATE TABLE ef_notnull.people (id integer, full_name text NOT NULL);
INSERT INTO ef_notnull.people (id) VALUES (1);
