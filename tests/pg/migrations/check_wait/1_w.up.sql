CREATE TABLE w (x integer);
