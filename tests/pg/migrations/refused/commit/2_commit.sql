CREATE TABLE rf_t (id integer);
COMMIT;
CREATE TABLE rf_u (id integer);
