DROP TABLE lc_ra_typo;
