DROP TABLE lc_ra;
