CREATE TABLE lc_final (x integer);
