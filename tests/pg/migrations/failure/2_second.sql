-- A dbmate file: the up section starts on line 3.

-- migrate:up
CREATE TABLE f_second (id integer PRIMARY KEY);
INSERT INTO f_second VALUES (1);

-- the third statement names a table that does not exist
INSERT INTO f_second (id)
    SELECT id FROM f_nowhere;
INSERT INTO f_second VALUES (2);

-- migrate:down
DROP TABLE f_second;
