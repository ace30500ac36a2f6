CREATE TABLE s_a (id integer);
