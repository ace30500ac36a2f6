CREATE TABLE lc_c (x integer);
