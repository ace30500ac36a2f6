CREATE TABLE dup (k integer);
INSERT INTO dup VALUES (1), (1), (2);
