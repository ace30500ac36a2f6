-- Accounts of the people who sign in.
-- ids are assigned by the application (no AUTOINCREMENT / SERIAL: the SQL runs on SQLite and PostgreSQL).
CREATE TABLE users (
    id           INTEGER PRIMARY KEY,
    email        TEXT NOT NULL,
    display_name TEXT NOT NULL,
    is_staff     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- e-mail addresses are unique whatever their case
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
