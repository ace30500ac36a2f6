-- What CREATE EXTENSION migrate installs: its objects, their comments, and who may run what.
\set VERBOSITY default
SET client_min_messages = warning;

\dx+ migrate
\d migrate_history

-- Every function, the table and the view have a comment.
SELECT p.oid::regprocedure AS function, obj_description(p.oid, 'pg_proc') AS comment
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'migrate')
 ORDER BY p.oid::regprocedure::text;
SELECT c.oid::regclass AS relation, c.relkind, obj_description(c.oid, 'pg_class') AS comment
  FROM pg_class c
  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'migrate')
 ORDER BY c.oid::regclass::text;

-- pg_dump keeps the history.
SELECT extconfig::regclass[] AS dumped_with_data FROM pg_extension WHERE extname = 'migrate';

-- EXECUTE is revoked from PUBLIC on every function that reads server files or changes the
-- database: a fresh role may run only the read-only migrations_status(), which reads history
-- (not readable by PUBLIC itself), and migrate_duplicates(), which reads a table the caller
-- must be allowed to read.
CREATE ROLE migrate_fresh_role;
SELECT p.oid::regprocedure AS function,
       has_function_privilege('migrate_fresh_role', p.oid, 'EXECUTE') AS can_execute
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'migrate')
 ORDER BY p.oid::regprocedure::text;
SELECT has_table_privilege('migrate_fresh_role', 'migrate_history', 'SELECT') AS can_read_history,
       has_table_privilege('migrate_fresh_role', 'migrate_history', 'INSERT') AS can_write_history,
       has_table_privilege('migrate_fresh_role', 'migrations_status', 'SELECT') AS can_read_view,
       has_table_privilege('migrate_fresh_role', 'migrate_key', 'SELECT') AS can_read_key;
DROP ROLE migrate_fresh_role;
