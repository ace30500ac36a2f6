CREATE TABLE lc_tags (x integer);
