CREATE TABLE lc_h (x integer);
