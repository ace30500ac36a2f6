-- migrate:no-transaction
CREATE INDEX CONCURRENTLY g_one_x_idx ON g_one (x);
