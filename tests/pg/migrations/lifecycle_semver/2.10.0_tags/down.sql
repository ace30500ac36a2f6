DROP TABLE lc_tags;
