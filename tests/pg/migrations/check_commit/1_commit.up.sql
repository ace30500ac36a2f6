CREATE TABLE hc (x integer);
COMMIT;
