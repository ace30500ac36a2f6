CREATE TABLE s_c (id integer);
