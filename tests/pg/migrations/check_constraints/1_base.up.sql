CREATE TABLE parents (id integer PRIMARY KEY);
INSERT INTO parents VALUES (1), (2);
CREATE TABLE items (id integer PRIMARY KEY, parent_id integer, price numeric(10,2), name text);
INSERT INTO items VALUES (1, 1, 9.99, 'a'), (2, 3, -1, NULL), (3, NULL, 0, 'c'), (4, 4, 5.00, NULL),
  (5, 2, -2, 'e');
