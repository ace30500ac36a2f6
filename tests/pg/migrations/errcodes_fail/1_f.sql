CREATE TABLE ec_f (x int);
CREATE TABLE ec_f (x int);
