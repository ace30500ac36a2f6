CREATE TABLE world (id integer);
