CREATE TABLE g_five (x integer);
