#!/usr/bin/env bash
# A low-privilege role creates operators (= <> < > <= >= || ~~ on text, bigint, integer, tid,
# boolean, timestamptz), functions (lower, upper, length, now, clock_timestamp) and a count(*)
# aggregate in a schema of its own, each recording its calls and trying ALTER ROLE ... SUPERUSER.
# A superuser puts that schema first on its search_path, before pg_catalog, and runs every
# migrate call. None of the hostile objects may run: the extension's own queries run under a
# pinned search_path. Migration scripts still run with the caller's search_path, so a control
# query at the end shows the hostile objects are found there.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin search_path_hijack

LOW=mig_hijack_low_$$
new_db DB || { fail "could not create the database"; scenario_end; }
new_db DB_BASE || { fail "could not create the database"; scenario_end; }
# the role owns the hostile schemas: dropped after the databases holding them
CLEANUP_HOOKS+=("dropdb --if-exists --force $DB; dropdb --if-exists --force $DB_BASE; psql -X -q -c 'DROP ROLE IF EXISTS $LOW'")
pg_q -c "CREATE ROLE $LOW LOGIN" || fail "could not create role $LOW"

# hostile_setup <db>: the low role's schema, owned by it.
hostile_setup() {
  pg_q -d "$1" <<SQL
CREATE SCHEMA hostile AUTHORIZATION $LOW;
SET ROLE $LOW;
CREATE TABLE hostile.calls (what text);
GRANT INSERT, SELECT ON hostile.calls TO PUBLIC;
CREATE FUNCTION hostile.spy(what text) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog AS \$f\$
BEGIN
    INSERT INTO hostile.calls VALUES (what);
    BEGIN
        EXECUTE format('ALTER ROLE %I SUPERUSER', '$LOW');
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
END
\$f\$;
DO \$d\$
DECLARE
    t text;
    o record;
BEGIN
    FOREACH t IN ARRAY ARRAY['text', 'bigint', 'integer', 'tid', 'boolean', 'timestamptz'] LOOP
        FOR o IN SELECT * FROM (VALUES ('=', 'eq'), ('<>', 'ne'), ('<', 'lt'), ('>', 'gt'),
                                       ('<=', 'le'), ('>=', 'ge')) v (op, nm) LOOP
            EXECUTE format('CREATE FUNCTION hostile.%s_%s(a %s, b %s) RETURNS boolean '
                           'LANGUAGE plpgsql SET search_path = pg_catalog AS \$f\$ BEGIN '
                           'PERFORM hostile.spy(%L); RETURN a OPERATOR(pg_catalog.%s) b; END \$f\$',
                           o.nm, t, t, t, o.op || ' ' || t, o.op);
            EXECUTE format('CREATE OPERATOR hostile.%s (LEFTARG = %s, RIGHTARG = %s, '
                           'FUNCTION = hostile.%s_%s)', o.op, t, t, o.nm, t);
        END LOOP;
    END LOOP;
END
\$d\$;
CREATE FUNCTION hostile.cat(a text, b text) RETURNS text LANGUAGE plpgsql
SET search_path = pg_catalog AS \$f\$ BEGIN PERFORM hostile.spy('|| text'); RETURN textcat(a, b); END \$f\$;
CREATE OPERATOR hostile.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = hostile.cat);
CREATE FUNCTION hostile.like(a text, b text) RETURNS boolean LANGUAGE plpgsql
SET search_path = pg_catalog AS \$f\$ BEGIN PERFORM hostile.spy('~~ text'); RETURN textlike(a, b); END \$f\$;
CREATE OPERATOR hostile.~~ (LEFTARG = text, RIGHTARG = text, FUNCTION = hostile.like);
CREATE FUNCTION hostile.lower(a text) RETURNS text LANGUAGE plpgsql
SET search_path = pg_catalog AS \$f\$ BEGIN PERFORM hostile.spy('lower'); RETURN pg_catalog.lower(a); END \$f\$;
CREATE FUNCTION hostile.upper(a text) RETURNS text LANGUAGE plpgsql
SET search_path = pg_catalog AS \$f\$ BEGIN PERFORM hostile.spy('upper'); RETURN pg_catalog.upper(a); END \$f\$;
CREATE FUNCTION hostile.length(a text) RETURNS integer LANGUAGE plpgsql
SET search_path = pg_catalog AS \$f\$ BEGIN PERFORM hostile.spy('length'); RETURN pg_catalog.length(a); END \$f\$;
CREATE FUNCTION hostile.now() RETURNS timestamptz LANGUAGE plpgsql
SET search_path = pg_catalog AS \$f\$ BEGIN PERFORM hostile.spy('now'); RETURN pg_catalog.now(); END \$f\$;
CREATE FUNCTION hostile.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql
SET search_path = pg_catalog AS \$f\$ BEGIN PERFORM hostile.spy('clock_timestamp'); RETURN pg_catalog.clock_timestamp(); END \$f\$;
CREATE FUNCTION hostile.count_step(n bigint) RETURNS bigint LANGUAGE plpgsql
SET search_path = pg_catalog AS \$f\$ BEGIN PERFORM hostile.spy('count(*)'); RETURN n + 1; END \$f\$;
CREATE AGGREGATE hostile.count(*) (SFUNC = hostile.count_step, STYPE = bigint, INITCOND = '0');
RESET ROLE;
SQL
}
hostile_setup "$DB" || fail "could not create the hostile schema in $DB"
hostile_setup "$DB_BASE" || fail "could not create the hostile schema in $DB_BASE"

DIR=$(new_dir hijack)
cat >"$DIR/1_people.sql" <<'SQL'
-- migrate:up
CREATE TABLE public.hj_people (id integer PRIMARY KEY, email text);
INSERT INTO public.hj_people VALUES (1, 'a@x'), (2, 'a@x'), (3, 'b@x');
-- migrate:down
DROP TABLE public.hj_people;
SQL
printf 'CREATE TABLE public.hj_two (id integer);\n' >"$DIR/2_two.up.sql"
printf 'DROP TABLE public.hj_two;\n' >"$DIR/2_two.down.sql"
printf 'CREATE TABLE public.hj_three (id integer);\n' >"$DIR/3_three.up.sql"
printf 'DROP TABLE public.hj_three;\n' >"$DIR/3_three.down.sql"
publish

# Every call, in one superuser session whose search_path puts the hostile schema first.
OUT=$(psql -X -At -d "$DB" -v dir="$DIR" 2>&1 <<'SQL'
SET search_path = hostile, pg_catalog, public;
SET client_min_messages = warning;
\echo apply
SELECT migrate_apply(:'dir');
SELECT pg_catalog.count(*) FROM migrations_status(:'dir');
SELECT pg_catalog.count(*) FROM migrations_status();
SELECT pg_catalog.count(*) FROM migrations_status;
SELECT migrate_validate(:'dir');
\echo rollback
SELECT migrate_rollback(:'dir');
SELECT pg_catalog.count(*) FROM migrate_plan(:'dir');
SELECT pg_catalog.count(*) FROM migrate_script(:'dir');
\echo to
SELECT migrate_to(:'dir', '1');
SELECT migrate_to(:'dir', '3');
\echo unique
SELECT migrate_add_unique('hj_people', 'email');
SELECT pg_catalog.count(*) FROM migrate_duplicates('hj_people', 'email');
SELECT migrate_add_unique('hj_people', 'email', NULL, 'keep_first');
\echo stored
INSERT INTO public.migrate_scripts VALUES ('4', 'four', 'CREATE TABLE public.hj_four (id integer);', 'DROP TABLE public.hj_four;');
SELECT pg_catalog.count(*) FROM migrations_status(NULL);
\echo repair
SQL
)
printf 'CREATE TABLE public.hj_two (id integer, changed integer);\n' >"$DIR/2_two.up.sql"
OUT2=$(psql -X -At -d "$DB" -v dir="$DIR" 2>&1 <<'SQL'
SET search_path = hostile, pg_catalog, public;
SET client_min_messages = warning;
SELECT migrate_repair(:'dir');
SELECT migrate_validate(:'dir');
SQL
)
OUT3=$(psql -X -At -d "$DB_BASE" 2>&1 <<'SQL'
SET search_path = hostile, pg_catalog, public;
SET client_min_messages = warning;
SELECT migrate_baseline('5', 'base');
SELECT pg_catalog.count(*) FROM migrations_status();
SQL
)
expect_line "the calls ran (session 1: $OUT)" '^repair$' "$OUT"
expect_line "keep_first moved the duplicate" 'moved 1 duplicate row' "$OUT"
expect_line "repair accepted the modified migration ($OUT2)" 'accepted the new checksum of 1 modified migration' "$OUT2"
expect_line "baseline recorded ($OUT3)" '^5$' "$OUT3"
for db in "$DB" "$DB_BASE"; do
  expect_eq "hostile objects called from migrate's own queries in $db" "" \
    "$(pg_q -d "$db" -c "SELECT string_agg(DISTINCT what, ', ') FROM hostile.calls")"
done
expect_eq "$LOW is still not a superuser" f "$(pg_q -c "SELECT rolsuper FROM pg_roles WHERE rolname = '$LOW'")"

# Control: in that session the hostile operators are what an unqualified query finds.
pg_q -d "$DB" -c "SET search_path = hostile, pg_catalog, public; SELECT 'a'::text = 'a'::text" >/dev/null
expect_eq "control: the hostile = on text is found first on that search_path" "= text" \
  "$(pg_q -d "$DB" -c "SELECT string_agg(DISTINCT what, ', ') FROM hostile.calls")"
pg_q -c "ALTER ROLE $LOW NOSUPERUSER" >/dev/null

scenario_end
