DROP TABLE s_users;
