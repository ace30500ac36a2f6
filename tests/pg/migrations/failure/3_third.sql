CREATE TABLE f_third (id integer);
