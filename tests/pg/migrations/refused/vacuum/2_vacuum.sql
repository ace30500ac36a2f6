CREATE TABLE rf_t (id integer);
VACUUM rf_t;
