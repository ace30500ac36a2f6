CREATE TABLE sec_t (id integer);
