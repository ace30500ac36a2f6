-- migrate:up
ALTER TABLE users ADD COLUMN last_login_at TIMESTAMP;

-- migrate:down
-- DROP COLUMN needs SQLite 3.35 or newer
ALTER TABLE users DROP COLUMN last_login_at;
