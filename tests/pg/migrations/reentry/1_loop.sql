CREATE TABLE loop_t (x int);
-- the migration calls migrate_apply on its own folder, named by a setting the test sets
SELECT migrate_apply(current_setting('t_reentry.dir'));
