DROP TABLE lc_users;
