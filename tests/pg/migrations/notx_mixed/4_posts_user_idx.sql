-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY posts_user_idx ON posts (user_id);
VACUUM ANALYZE posts;
-- +goose Down
DROP INDEX posts_user_idx;
