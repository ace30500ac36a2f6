DROP TABLE lc_final;
