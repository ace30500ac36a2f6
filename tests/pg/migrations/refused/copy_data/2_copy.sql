CREATE TABLE rf_t (a integer, b text);

-- as pg_dump writes it: the rows follow the COPY
COPY rf_t (a, b) FROM stdin;
1	one
2	two
\.
