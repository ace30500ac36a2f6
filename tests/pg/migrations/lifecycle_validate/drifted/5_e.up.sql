CREATE TABLE lc_e (x integer);
