CREATE TABLE syn_ok (id integer);
