CREATE TABLE lc_g (x integer);
