CREATE TABLE g_one (x integer);
