-- migrate:up
CREATE TABLE lc_b (x integer);
-- migrate:down
DROP TABLE lc_b;
