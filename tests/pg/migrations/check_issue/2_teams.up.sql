CREATE TABLE teams (id integer PRIMARY KEY, name text);
