CREATE TABLE b (x integer);
