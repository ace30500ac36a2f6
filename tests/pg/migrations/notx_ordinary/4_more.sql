-- +goose Up
INSERT INTO accounts VALUES (2, E'back\\slash');
-- +goose Down
DELETE FROM accounts WHERE id = 2;
