DROP INDEX users_email_lower_key;
DROP TABLE users;
