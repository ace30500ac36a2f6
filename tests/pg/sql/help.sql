-- migrate_help(): the core's list of functions, and exactly the functions the extension has.
SELECT name, arguments, returns, engines FROM migrate_help();
-- every function of the extension (trigger functions aside) is listed, and nothing else is
WITH registered AS (
  SELECT DISTINCT p.proname::text AS name
    FROM pg_proc p
    JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
    JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'migrate'
   WHERE p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)),
listed AS (SELECT name FROM migrate_help() WHERE engines <> 'sqlite')
(SELECT 'registered, not listed' AS problem, name FROM registered
 EXCEPT SELECT 'registered, not listed', name FROM listed)
UNION ALL
(SELECT 'listed, not registered', name FROM listed
 EXCEPT SELECT 'listed, not registered', name FROM registered);
-- every row says what it does
SELECT count(*) AS without_description FROM migrate_help() WHERE length(description) < 10;
