CREATE TABLE lc_users (x integer);
