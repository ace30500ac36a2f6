CREATE TABLE lc_t (x integer);
