CREATE TABLE lc_teams (x integer);
