CREATE TABLE lc_b (x integer); CREATE TABLE lc_b2 (x integer);
