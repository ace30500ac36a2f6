SELECT nextval('amounts_id_seq');
ALTER TABLE quiet ADD COLUMN x integer;
SELECT 1 / 0;
