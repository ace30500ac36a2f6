CREATE TABLE s_users (id integer PRIMARY KEY, email text);
INSERT INTO s_users VALUES (1, 'a@x.com');
