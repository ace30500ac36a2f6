CREATE TABLE ec_b (x int);
