DROP TABLE lc_teams;
