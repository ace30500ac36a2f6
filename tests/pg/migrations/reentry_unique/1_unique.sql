CREATE TABLE reentry_u (x int);
INSERT INTO reentry_u VALUES (1), (2);
SELECT migrate_add_unique('reentry_u', 'x', 'reentry_u_x');
