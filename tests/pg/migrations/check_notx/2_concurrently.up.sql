-- migrate:no-transaction
CREATE INDEX CONCURRENTLY a_x ON a (x);
