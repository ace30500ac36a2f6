-- A typo on line 4: SELEC for SELECT.
CREATE TABLE ef_syntax (id integer);

INSERT INTO ef_syntax SELEC 1;
