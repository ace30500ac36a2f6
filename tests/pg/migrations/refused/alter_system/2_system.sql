CREATE TABLE rf_t (id integer);
ALTER SYSTEM SET work_mem = '8MB';
