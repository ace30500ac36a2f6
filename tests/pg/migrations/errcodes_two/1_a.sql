CREATE TABLE ec_a (x int);
