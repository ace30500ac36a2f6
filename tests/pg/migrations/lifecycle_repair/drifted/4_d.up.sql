CREATE TABLE lc_d (x integer);
