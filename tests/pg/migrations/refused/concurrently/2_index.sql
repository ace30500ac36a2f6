CREATE TABLE rf_t (id integer);

CREATE INDEX CONCURRENTLY rf_t_id ON rf_t (id);
