#!/usr/bin/env bash
# migrate_set_not_null, migrate_add_column and migrate_nulls across roles.
# - Neither is executable by PUBLIC; migrate_grant's monitor kind grants migrate_nulls (on tables
#   the role may SELECT), its deploy kind migrate_set_not_null and migrate_add_column, which need
#   the table's owner.
# - A low-privilege role pre-creates <table>_nulls with a trigger that would make it superuser:
#   a superuser's quarantine is refused, naming the table and why; the trigger does not run.
# - The fill runs with the caller's rights: a table the caller may not read stays unread.
# - migrate_add_unique's 'merge' re-points rows of the referencing tables only where the caller
#   may read and update them and row security hides none of their rows.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin columns_roles

new_db DB || { fail "could not create the database"; scenario_end; }
CLEANUP_HOOKS+=("dropdb --if-exists --force $DB; psql -X -q -c 'DROP ROLE IF EXISTS nn_low, nn_watch'")
pg_q -c 'CREATE ROLE nn_low LOGIN; CREATE ROLE nn_watch LOGIN' ||
  { fail "could not create the roles nn_low, nn_watch (left over from another run?)"; scenario_end; }

pg_q -d "$DB" <<'SQL' || { fail "could not set up the schema"; scenario_end; }
CREATE SCHEMA shared;
GRANT USAGE, CREATE ON SCHEMA shared TO nn_low;
CREATE TABLE shared.accounts (id integer PRIMARY KEY, email text);
INSERT INTO shared.accounts VALUES (1, 'a'), (2, NULL), (3, NULL);
CREATE TABLE public.people (id integer PRIMARY KEY, email text);
INSERT INTO public.people VALUES (1, 'a'), (2, NULL);
GRANT SELECT ON public.people TO PUBLIC;
CREATE TABLE public.hidden (id integer PRIMARY KEY, email text);
CREATE TABLE public.secrets (v text);
INSERT INTO public.secrets VALUES ('s3cret');
SQL

# as <role> <sql>: run as that role, without stopping at errors; output and errors.
as() {
  PGOPTIONS='-c client_min_messages=warning' psql -X -q -At -U "$1" -d "$DB" 2>&1 <<<"$2"
}

# --- the trap: a quarantine table prepared by another role ---------------------------------
OUT=$(as nn_low "
CREATE TABLE shared.trap_log (who text);
CREATE TABLE shared.accounts_nulls (id integer, email text, migrate_moved_at timestamptz);
CREATE FUNCTION shared.trap() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
    INSERT INTO shared.trap_log VALUES (current_user);
    EXECUTE 'ALTER ROLE nn_low SUPERUSER';
    RETURN NEW;
END \$\$;
CREATE TRIGGER trap AFTER INSERT ON shared.accounts_nulls FOR EACH ROW EXECUTE FUNCTION shared.trap();
GRANT INSERT ON shared.trap_log TO PUBLIC;")
expect_eq "the low-privilege role prepares its table" "" "$OUT"
OUT=$(psql -X -q -At -d "$DB" -c "SET search_path = shared, public" \
  -c "SELECT migrate_set_not_null('accounts', 'email', NULL, 'quarantine')" 2>&1)
expect_line "the superuser's quarantine is refused, naming the table and why" \
  "refusing to move rows holding NULL of accounts into the existing table accounts_nulls: its owner is not the owner of the table, and it could have been prepared by another role; nothing was changed" "$OUT"
expect_eq "the trigger did not run" "0" "$(pg_q -d "$DB" -c 'SELECT count(*) FROM shared.trap_log')"
expect_eq "the role is not superuser" "f" "$(pg_q -c "SELECT rolsuper FROM pg_roles WHERE rolname = 'nn_low'")"
expect_eq "nothing moved, the column still nullable" "3|0|f" \
  "$(pg_q -d "$DB" -c "SELECT (SELECT count(*) FROM shared.accounts), (SELECT count(*) FROM shared.accounts_nulls), (SELECT attnotnull FROM pg_attribute WHERE attrelid = 'shared.accounts'::regclass AND attname = 'email')")"
pg_q -d "$DB" -c 'DROP TABLE shared.accounts_nulls' >/dev/null
OUT=$(psql -X -q -At -d "$DB" -c "SET search_path = shared, public" \
  -c "SELECT migrate_set_not_null('accounts', 'email', NULL, 'quarantine')" 2>&1)
expect_eq "quarantine into a table of its own" \
  "column email of accounts is NOT NULL; moved 2 rows to accounts_nulls" "$OUT"

# --- not PUBLIC; the monitor and deploy kinds; the table's own privileges --------------------
OUT=$(as nn_watch "SELECT * FROM migrate_nulls('people', 'email');")
expect_line "PUBLIC may not call migrate_nulls" 'permission denied for function migrate_nulls' "$OUT"
OUT=$(as nn_watch "SELECT migrate_set_not_null('people', 'email', '''x''');")
expect_line "PUBLIC may not call migrate_set_not_null" 'permission denied for function migrate_set_not_null' "$OUT"
OUT=$(as nn_watch "SELECT migrate_add_column('people', 'score', 'integer', NULL, '0');")
expect_line "PUBLIC may not call migrate_add_column" 'permission denied for function migrate_add_column' "$OUT"
pg_q -d "$DB" -c "SELECT migrate_grant('nn_watch', 'monitor')" >/dev/null ||
  fail "migrate_grant(nn_watch, monitor) failed"
OUT=$(as nn_watch "SELECT * FROM migrate_nulls('people', 'email');")
expect_eq "the monitor role lists NULLs of a table it may read" "2|1" "$OUT"
OUT=$(as nn_watch "SELECT * FROM migrate_nulls('hidden', 'email');")
expect_line "not of a table it may not read" 'permission denied for table hidden' "$OUT"
OUT=$(as nn_watch "SELECT migrate_set_not_null('people', 'email', '''x''');")
expect_line "the monitor role may not change columns" 'permission denied for function migrate_set_not_null' "$OUT"
pg_q -d "$DB" -c "SELECT migrate_grant('nn_watch', 'deploy')" >/dev/null
OUT=$(as nn_watch "SELECT migrate_set_not_null('people', 'email', '''x''');")
expect_line "a deploy role that does not own the table may not change it" 'must be owner of table people' "$OUT"
OUT=$(as nn_watch "SELECT migrate_add_column('people', 'score', 'integer', NULL, '0');")
expect_line "nor add a column to it" 'must be owner of table people' "$OUT"
pg_q -d "$DB" -c 'ALTER TABLE public.people OWNER TO nn_watch' >/dev/null
OUT=$(as nn_watch "SELECT migrate_set_not_null('people', 'email', '(SELECT v FROM public.secrets)');")
expect_line "the fill runs with the caller's rights" 'permission denied for table secrets' "$OUT"
expect_eq "people is unchanged" "1" "$(pg_q -d "$DB" -c 'SELECT count(*) FROM public.people WHERE email IS NULL')"
OUT=$(as nn_watch "SELECT migrate_set_not_null('people', 'email', '''x''');")
expect_eq "the owner with deploy makes it NOT NULL" "column email of people is NOT NULL; filled 1 row" "$OUT"
OUT=$(as nn_watch "SELECT migrate_add_column('people', 'mail2', 'text', '(SELECT v FROM public.secrets)');")
expect_line "migrate_add_column's fill runs with the caller's rights" 'permission denied for table secrets' "$OUT"
OUT=$(as nn_watch "SELECT migrate_add_column('people', 'score', 'integer', 'id * 2');")
expect_eq "the owner with deploy adds a NOT NULL column" "added column score integer NOT NULL to people; filled 2 rows" "$OUT"

# --- merge: every referencing table must be readable, updatable and wholly visible -----------
pg_q -d "$DB" <<'SQL' >/dev/null || fail "could not set up the merge tables"
GRANT CREATE ON SCHEMA public TO nn_watch; -- the index and the quarantine are created there
CREATE TABLE public.m_par (id integer PRIMARY KEY, k text);
INSERT INTO public.m_par VALUES (1, 'a'), (2, 'a'), (3, 'b');
ALTER TABLE public.m_par OWNER TO nn_watch;
CREATE TABLE public.m_kid (par_id integer REFERENCES public.m_par ON DELETE CASCADE);
INSERT INTO public.m_kid VALUES (2), (3), (2);
SQL
OUT=$(as nn_watch "SELECT migrate_add_unique('m_par', 'k', NULL, 'merge');")
expect_line "merge refuses a referencing table the owner may not update" \
  "on_duplicate 'merge' must re-point the rows of table m_kid that reference m_par, and the caller may not read and update it; nothing was changed" "$OUT"
expect_eq "nothing moved, no child re-pointed" "3|2,2,3" \
  "$(pg_q -d "$DB" -c "SELECT (SELECT count(*) FROM public.m_par), (SELECT string_agg(par_id::text, ',' ORDER BY par_id) FROM public.m_kid)")"
pg_q -d "$DB" -c "ALTER TABLE public.m_kid OWNER TO nn_watch; ALTER TABLE public.m_kid ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY" >/dev/null
OUT=$(as nn_watch "SELECT migrate_add_unique('m_par', 'k', NULL, 'merge');")
expect_line "merge refuses a referencing table whose rows row security could hide" \
  "on_duplicate 'merge' must re-point the rows of table m_kid that reference m_par, and row security hides some of its rows from the caller; nothing was changed" "$OUT"
pg_q -d "$DB" -c "ALTER TABLE public.m_kid NO FORCE ROW LEVEL SECURITY" >/dev/null
OUT=$(as nn_watch "SELECT migrate_add_unique('m_par', 'k', NULL, 'merge');")
expect_eq "the owner of both merges" \
  "moved 1 duplicate rows of m_par to m_par_duplicates; re-pointed 2 rows of m_kid; created unique index m_par_k_key" "$OUT"
expect_eq "children re-pointed, none lost" "1,1,3" \
  "$(pg_q -d "$DB" -c "SELECT string_agg(par_id::text, ',' ORDER BY par_id) FROM public.m_kid")"

pg_q -d "$DB" -c "SELECT migrate_revoke('nn_watch')" >/dev/null
OUT=$(as nn_watch "SELECT * FROM migrate_nulls('people', 'email');")
expect_line "migrate_revoke takes it back" 'permission denied for function migrate_nulls' "$OUT"

scenario_end
