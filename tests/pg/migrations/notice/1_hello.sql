CREATE TABLE hello (id integer);
