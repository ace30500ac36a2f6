CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL);
INSERT INTO users VALUES (1, 'a@x.com'), (2, 'b@x.com');
