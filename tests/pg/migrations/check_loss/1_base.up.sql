CREATE TABLE old_logs (id integer PRIMARY KEY, line text);
INSERT INTO old_logs VALUES (1, 'a'), (2, 'b'), (3, 'c');
CREATE TABLE people (id integer PRIMARY KEY, name text, nickname text);
INSERT INTO people VALUES (1, 'ann', 'an'), (2, 'bob', NULL), (3, 'cid', 'c');
