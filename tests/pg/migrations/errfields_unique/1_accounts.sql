-- Two accounts with the same e-mail: the second INSERT violates the unique constraint.
CREATE SCHEMA ef_unique;
CREATE TABLE ef_unique.accounts (
    id integer PRIMARY KEY,
    email text CONSTRAINT accounts_email_key UNIQUE
);
INSERT INTO ef_unique.accounts VALUES (1, 'a@example.com');
INSERT INTO ef_unique.accounts VALUES (2, 'a@example.com');
