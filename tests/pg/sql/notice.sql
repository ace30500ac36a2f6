-- Each migration applied emits NOTICE "applied <version> <name> (<n> ms)". The time varies,
-- so this test runs the apply in a psql of its own and masks the number.
\set VERBOSITY default
\getenv fixtures MIGRATE_FIXTURES
\set dir :fixtures '/notice'
SET client_min_messages = warning;
TRUNCATE migrate_history;
\setenv TEST_DB :DBNAME

\! psql -X -q -d "$TEST_DB" -c "SELECT migrate_apply('$MIGRATE_FIXTURES/notice') AS applied" 2>&1 | sed -E 's/\([0-9]+ ms\)/(N ms)/'
-- a re-run applies nothing and says nothing
\! psql -X -q -d "$TEST_DB" -c "SELECT migrate_apply('$MIGRATE_FIXTURES/notice') AS applied" 2>&1 | sed -E 's/\([0-9]+ ms\)/(N ms)/'
SELECT version, name, execution_ms >= 0 AS timed FROM migrate_history ORDER BY id;

DROP TABLE public.hello, public.world;
TRUNCATE migrate_history;
