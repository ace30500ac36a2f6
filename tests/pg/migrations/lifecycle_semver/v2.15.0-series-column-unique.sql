-- migrate:up
CREATE TABLE lc_series (x integer);
-- migrate:down
DROP TABLE lc_series;
