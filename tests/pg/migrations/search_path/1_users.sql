CREATE TABLE users (id integer PRIMARY KEY, login text NOT NULL);
