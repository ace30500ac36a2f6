CREATE TABLE users (id integer PRIMARY KEY, email text);
INSERT INTO users VALUES (1, 'a@x.com'), (2, 'b@x.com'), (3, 'a@x.com');
