CREATE TABLE users (id integer PRIMARY KEY, email text);
INSERT INTO users VALUES (1, 'a@x'), (2, 'a@x'), (3, 'b@x'), (4, 'b@x'), (5, 'c@x'), (6, 'c@x'),
                         (7, 'd@x');
