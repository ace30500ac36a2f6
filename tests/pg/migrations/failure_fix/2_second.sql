-- A dbmate file: the up section starts on line 3.

-- migrate:up
CREATE TABLE f_second (id integer PRIMARY KEY);
INSERT INTO f_second VALUES (1);

-- the third statement now reads a table that exists
INSERT INTO f_second (id)
    SELECT id + 1 FROM f_first;
INSERT INTO f_second VALUES (3);

-- migrate:down
DROP TABLE f_second;
