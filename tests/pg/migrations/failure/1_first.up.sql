CREATE TABLE f_first (id integer PRIMARY KEY);
INSERT INTO f_first VALUES (1);
