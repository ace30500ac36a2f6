CREATE TABLE g_four (x integer);
