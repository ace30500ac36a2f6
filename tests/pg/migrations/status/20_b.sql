CREATE TABLE s_b (id integer);
