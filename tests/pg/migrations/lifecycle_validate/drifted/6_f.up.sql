CREATE TABLE lc_f (x integer);
