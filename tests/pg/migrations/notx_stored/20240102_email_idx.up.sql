-- migrate:no-transaction
CREATE INDEX CONCURRENTLY s_users_email_idx ON s_users (email);
