CREATE TABLE lc_a (x integer); CREATE TABLE lc_a2 (x integer);
