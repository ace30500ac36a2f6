-- migrate:no-transaction
CREATE UNIQUE INDEX CONCURRENTLY dup_k_key ON dup (k);
