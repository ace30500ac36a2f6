-- migrate:up
CREATE TABLE accounts (id integer PRIMARY KEY, owner text);
INSERT INTO accounts VALUES (1, 'it''s; mine');

-- migrate:down
DROP TABLE accounts;
