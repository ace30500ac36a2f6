CREATE TABLE lc_late (x integer);
