CREATE TABLE txt (
    id integer
);
INSERT INTO txt VALUES (1);
