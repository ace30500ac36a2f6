-- migrate:up
-- migrate:down
DROP TABLE IF EXISTS nothing;
