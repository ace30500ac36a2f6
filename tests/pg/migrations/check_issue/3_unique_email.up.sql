-- the emails must be unique from now on
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
