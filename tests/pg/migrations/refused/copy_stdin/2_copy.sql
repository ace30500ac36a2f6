CREATE TABLE rf_t (a integer, b text);

COPY rf_t (a, b) FROM STDIN;
