-- migrate:up
CREATE TABLE lc_b (x integer);
-- migrate:down
DELETE FROM lc_b;

DROP TABLE lc_nope;
DROP TABLE lc_b;
