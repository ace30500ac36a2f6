CREATE TABLE lc_a (x integer);
