CREATE TABLE g_three (x integer);
INSERT INTO g_missing VALUES (1);
