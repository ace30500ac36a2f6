-- migrate:up
CREATE TABLE lc_b (x integer);
