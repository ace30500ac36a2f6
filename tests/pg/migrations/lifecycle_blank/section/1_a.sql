-- migrate:up
CREATE TABLE lc_a (x integer);
-- migrate:down
-- keep the table
