#!/usr/bin/env bash
# migrate_add_unique and migrate_duplicates across roles.
# - A low-privilege role that may create tables in the schema pre-creates <table>_duplicates
#   with a trigger that would make it superuser; a superuser's keep_first is refused, naming the
#   table and why, the trigger does not run, and nothing changes.
# - migrate_duplicates is not executable by PUBLIC; migrate_grant's monitor kind grants it, and
#   it reads only tables the role may SELECT. migrate_add_unique needs the table's owner, and so
#   does migrate_add_unique_script (the steps it writes alter the table), which PUBLIC and the
#   monitor kind may not call.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin unique_roles

new_db DB || { fail "could not create the database"; scenario_end; }
CLEANUP_HOOKS+=("dropdb --if-exists --force $DB; psql -X -q -c 'DROP ROLE IF EXISTS uq_low, uq_watch'")
pg_q -c 'CREATE ROLE uq_low LOGIN; CREATE ROLE uq_watch LOGIN' ||
  { fail "could not create the roles uq_low, uq_watch (left over from another run?)"; scenario_end; }

pg_q -d "$DB" <<'SQL' || { fail "could not set up the schema"; scenario_end; }
CREATE SCHEMA shared;
GRANT USAGE, CREATE ON SCHEMA shared TO uq_low;
CREATE TABLE shared.accounts (id integer PRIMARY KEY, email text, name text);
INSERT INTO shared.accounts VALUES (1, 'a', 'n1'), (2, 'a', 'n2'), (3, 'b', 'n3'), (4, 'b', 'n4');
CREATE TABLE public.hidden (id integer PRIMARY KEY, email text);
SQL

# as <role> <sql>: run as that role, without stopping at errors; output and errors.
as() {
  PGOPTIONS='-c client_min_messages=warning' psql -X -q -At -U "$1" -d "$DB" 2>&1 <<<"$2"
}

# --- the trap: a quarantine table prepared by another role ---------------------------------
OUT=$(as uq_low "
CREATE TABLE shared.trap_log (who text);
CREATE TABLE shared.accounts_duplicates (id integer, email text, name text, migrate_moved_at timestamptz);
CREATE FUNCTION shared.trap() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
    INSERT INTO shared.trap_log VALUES (current_user);
    EXECUTE 'ALTER ROLE uq_low SUPERUSER';
    RETURN NEW;
END \$\$;
CREATE TRIGGER trap AFTER INSERT ON shared.accounts_duplicates FOR EACH ROW EXECUTE FUNCTION shared.trap();
GRANT INSERT ON shared.trap_log TO PUBLIC;")
expect_eq "the low-privilege role prepares its table" "" "$OUT"

OUT=$(psql -X -q -At -d "$DB" -c "SET search_path = shared, public" \
  -c "SELECT migrate_add_unique('accounts', 'email', NULL, 'keep_first')" 2>&1)
expect_line "the superuser's keep_first is refused, naming the table and why" \
  "refusing to move duplicate rows of accounts into the existing table accounts_duplicates: its owner is not the owner of the table, and it could have been prepared by another role; nothing was changed" "$OUT"
expect_eq "the trigger did not run" "0" "$(pg_q -d "$DB" -c 'SELECT count(*) FROM shared.trap_log')"
expect_eq "the role is not superuser" "f" "$(pg_q -c "SELECT rolsuper FROM pg_roles WHERE rolname = 'uq_low'")"
expect_eq "nothing moved" "4|0" \
  "$(pg_q -d "$DB" -c 'SELECT (SELECT count(*) FROM shared.accounts), (SELECT count(*) FROM shared.accounts_duplicates)')"
expect_eq "no index was made" "shared.accounts_pkey" \
  "$(pg_q -d "$DB" -c "SELECT string_agg(indexrelid::regclass::text, ',') FROM pg_index WHERE indrelid = 'shared.accounts'::regclass")"

# once the superuser owns the table again (the prepared one dropped), the call goes through
pg_q -d "$DB" -c 'DROP TABLE shared.accounts_duplicates' >/dev/null
OUT=$(psql -X -q -At -d "$DB" -c "SET search_path = shared, public" \
  -c "SELECT migrate_add_unique('accounts', 'email', NULL, 'keep_first')" 2>&1)
expect_eq "keep_first into a table of its own" \
  "moved 2 duplicate rows of accounts to accounts_duplicates; created unique index accounts_email_key" "$OUT"

# --- migrate_duplicates: not PUBLIC; the monitor kind; the table's own privileges ----------
pg_q -d "$DB" -c 'CREATE TABLE public.people (id integer PRIMARY KEY, email text);
               INSERT INTO public.people VALUES (1, $$a$$), (2, $$a$$);
               GRANT SELECT ON public.people TO PUBLIC' >/dev/null
OUT=$(as uq_watch "SELECT * FROM migrate_duplicates('people', 'email');")
expect_line "PUBLIC may not call migrate_duplicates" 'permission denied for function migrate_duplicates' "$OUT"
OUT=$(as uq_watch "SELECT * FROM migrate_add_unique_script('people', 'email');")
expect_line "PUBLIC may not call migrate_add_unique_script" \
  'permission denied for function migrate_add_unique_script' "$OUT"
pg_q -d "$DB" -c "SELECT migrate_grant('uq_watch', 'monitor')" >/dev/null ||
  fail "migrate_grant(uq_watch, monitor) failed"
OUT=$(as uq_watch "SELECT key, count FROM migrate_duplicates('people', 'email');")
expect_eq "the monitor role reads duplicates of a table it may read" "a|2" "$OUT"
OUT=$(as uq_watch "SELECT * FROM migrate_duplicates('hidden', 'email');")
expect_line "not of a table it may not read" 'permission denied for table hidden' "$OUT"
OUT=$(as uq_watch "SELECT migrate_add_unique('people', 'email');")
expect_line "the monitor role may not add constraints" 'permission denied for function migrate_add_unique' "$OUT"
OUT=$(as uq_watch "SELECT * FROM migrate_add_unique_script('people', 'email');")
expect_line "nor write the steps that add one" \
  'permission denied for function migrate_add_unique_script' "$OUT"
pg_q -d "$DB" -c "SELECT migrate_grant('uq_watch', 'deploy')" >/dev/null
OUT=$(as uq_watch "SELECT migrate_add_unique('people', 'email', NULL, 'keep_first');")
expect_line "a deploy role that does not own the table may not change it" 'must be owner of table people' "$OUT"
expect_eq "people is unchanged" "2" "$(pg_q -d "$DB" -c 'SELECT count(*) FROM public.people')"
pg_q -d "$DB" -c 'CREATE TABLE public.tags (id integer PRIMARY KEY, name text);
               GRANT SELECT ON public.tags TO PUBLIC;
               CREATE TABLE public.mine (id integer PRIMARY KEY, name text);
               ALTER TABLE public.mine OWNER TO uq_watch' >/dev/null
OUT=$(as uq_watch "SELECT statement FROM migrate_add_unique_script('tags', 'name') ORDER BY seq;")
expect_eq "nor the steps for a table it may read but does not own" \
  "ERROR:  must be owner of table tags" "$OUT"
OUT=$(as uq_watch "SELECT statement FROM migrate_add_unique_script('mine', 'name') ORDER BY seq;")
expect_eq "the deploy role writes the steps for its own table" \
  "SELECT pg_catalog.count(*) AS steps FROM public.migrate_add_unique_script('mine', 'name', 'mine_name_key');
CREATE UNIQUE INDEX CONCURRENTLY mine_name_key ON public.mine (name);
ALTER TABLE public.mine ADD CONSTRAINT mine_name_key UNIQUE USING INDEX mine_name_key;" "$OUT"
pg_q -d "$DB" -c "SELECT migrate_revoke('uq_watch')" >/dev/null
OUT=$(as uq_watch "SELECT * FROM migrate_duplicates('people', 'email');")
expect_line "migrate_revoke takes it back" 'permission denied for function migrate_duplicates' "$OUT"

scenario_end
