DROP TABLE many_1;
SELECT nextval('amounts_id_seq');
