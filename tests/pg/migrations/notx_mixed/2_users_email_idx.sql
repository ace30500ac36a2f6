-- migrate:up transaction:false
-- a big table: build the index without blocking writes
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);

-- migrate:down
DROP INDEX users_email_idx;
