CREATE TABLE ef_syntax_ok (id integer);
