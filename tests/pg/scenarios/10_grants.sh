#!/usr/bin/env bash
# The README's grant recipe, extracted from README.md between its grant-recipe markers and run
# word for word, then used: the deploy role rehearses (migrate_check), applies a folder and
# migrate_scripts, validates, rolls back, uses migrate_to, migrate_add_unique,
# migrate_duplicates and migrate_script's output (guard and record included); the monitoring
# role reads status and plan but cannot apply or rehearse, nor can a role granted nothing. The
# deploy role cannot write history: no INSERT, UPDATE, DELETE or TRUNCATE on migrate_history,
# and migrate_record refuses a row migrate_script did not write. So a row whose down script
# would make it superuser cannot be planted, and a superuser's rollback afterwards runs only
# the real down scripts.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin grants

new_db DB || { fail "could not create the database"; scenario_end; }
new_db DB2 || { fail "could not create the database"; scenario_end; }
# the roles the recipe names; dropped at exit, after the databases holding their grants
CLEANUP_HOOKS+=("dropdb --if-exists --force $DB; dropdb --if-exists --force $DB2; psql -X -q -c 'DROP ROLE IF EXISTS deployer, monitoring, dba, g_nobody'")
pg_q -c 'CREATE ROLE deployer LOGIN; CREATE ROLE monitoring LOGIN; CREATE ROLE dba; CREATE ROLE g_nobody LOGIN' ||
  { fail "could not create the roles deployer, monitoring, dba, g_nobody (left over from another run?)"; scenario_end; }

sed -n '/<!-- grant-recipe:begin -->/,/<!-- grant-recipe:end -->/p' "$REPO_DIR/README.md" |
  grep -v -e '<!--' -e '```' | sed 's/^  //' >"$WORK/recipe.sql"
[ -s "$WORK/recipe.sql" ] || fail "README.md has no grant recipe between the markers"
for db in "$DB" "$DB2"; do
  OUT=$(pg_q -d "$db" -f "$WORK/recipe.sql" 2>&1) || fail "the README's recipe failed in $db: $OUT"
done
expect_line "migrate_grant says what it does not grant" 'needs GRANT pg_read_server_files TO deployer' "$OUT"

DIR=$(new_dir grants)
cat >"$DIR/1_people.sql" <<'SQL'
-- migrate:up
CREATE TABLE g_people (id integer PRIMARY KEY, email text, nick text);
INSERT INTO g_people VALUES (1, 'a@x', 'a'), (2, 'a@x', 'b'), (3, 'b@x', 'c');
-- migrate:down
DROP TABLE g_people;
SQL
printf 'CREATE TABLE g_two (id integer);\n' >"$DIR/2_two.up.sql"
printf 'DROP TABLE g_two;\n' >"$DIR/2_two.down.sql"
printf -- "-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY g_two_id ON g_two (id);\n" >"$DIR/3_two_id.up.sql"
printf 'DROP INDEX g_two_id;\n' >"$DIR/3_two_id.down.sql"
printf 'CREATE TABLE g_four (id integer);\n' >"$DIR/4_four.up.sql"
printf 'DROP TABLE g_four;\n' >"$DIR/4_four.down.sql"
publish

# as <role> <db> <sql>: run as that role, without stopping at errors; output and errors.
as() {
  PGOPTIONS='-c client_min_messages=warning' psql -X -q -At -U "$1" -d "$2" -v dir="$DIR" 2>&1 <<<"$3"
}

# --- the deploy role ---------------------------------------------------------------------
# migrate_check first: it rehearses with the deploy role's own rights, and nothing stays
OUT=$(as deployer "$DB" "
SELECT version, outcome, after_failure FROM migrate_check(:'dir', '4');
SELECT count(*) FROM migrate_history;
SELECT to_regclass('g_people') IS NULL;")
expect_eq "the deploy role rehearses" "1|ok|f
2|ok|f
3|skipped|f
4|ok|f
0
t" "$OUT"
OUT=$(as deployer "$DB" "
SELECT migrate_apply(:'dir', '2');
SELECT migrate_validate(:'dir');
SELECT migrate_rollback(:'dir');
SELECT migrate_to(:'dir', '2');
SELECT key, count FROM migrate_duplicates('g_people', 'email');
SELECT migrate_add_unique('g_people', 'nick');
SELECT state FROM migrations_status(:'dir') ORDER BY version;
SELECT count(*) FROM migrate_plan(:'dir', '1');")
expect_eq "the deploy role's calls" "2
ok
1
1
a@x|2
created unique index g_people_nick_key on g_people
applied
applied
pending
pending
1" "$OUT"
# the record statement of migration 4, kept to be replayed later
REC4=$(psql -X -q -At -U deployer -d "$DB" -c "SELECT statement FROM migrate_script('$DIR') WHERE statement LIKE '%migrate_record(''4''%'")
OUT=$(printf "SELECT statement FROM migrate_script('%s') \\\\gexec\n" "$DIR" |
  psql -X -q -At -U deployer -v ON_ERROR_STOP=1 -d "$DB" 2>&1)
expect_eq "psql's exit status running migrate_script's output as the deploy role ($OUT)" 0 "$?"
expect_eq "history written for the deploy role" "1|up|deployer 2|up|deployer 2|down|deployer 2|up|deployer 3|up|deployer 4|up|deployer" \
  "$(pg_q -d "$DB" -c "SELECT string_agg(version || '|' || direction || '|' || applied_by, ' ' ORDER BY id) FROM migrate_history")"

# a token is good once: replayed after migration 4 was reverted, it records nothing
expect_eq "the deploy role reverts 4" 1 "$(as deployer "$DB" "SELECT migrate_rollback(:'dir');")"
OUT=$(as deployer "$DB" "$REC4")
expect_line "a replayed record statement is refused ($REC4)" 'ERROR:  migrate_record: the token does not match these values' "$OUT"
expect_eq "4 stays reverted" "pending" \
  "$(pg_q -d "$DB" -c "SELECT state FROM migrations_status('$DIR') WHERE version = '4'")"

# --- the deploy role cannot write history --------------------------------------------------
OUT=$(as deployer "$DB" "
INSERT INTO migrate_history (version, name, direction, down_sql, applied_at, success)
    VALUES ('4', 'four', 'up', 'ALTER ROLE deployer SUPERUSER', now(), true);
UPDATE migrate_history SET down_sql = 'ALTER ROLE deployer SUPERUSER' WHERE version = '4';
DELETE FROM migrate_history;
TRUNCATE migrate_history;
SELECT migrate_record('5', 'five', NULL, NULL, 'SELECT 1', 'ALTER ROLE deployer SUPERUSER', '5_five.sql', repeat('0', 64));
SELECT migrate_record('5', 'five', NULL, NULL, 'SELECT 1', 'ALTER ROLE deployer SUPERUSER', '5_five.sql', NULL);
SELECT * FROM migrate_key;
SELECT has_table_privilege('migrate_history', 'INSERT') OR has_table_privilege('migrate_history', 'UPDATE')
    OR has_table_privilege('migrate_history', 'DELETE') AS can_write;")
expect_line "INSERT refused" '^ERROR:  permission denied for table migrate_history' "$OUT"
expect_eq "every write to migrate_history refused" 4 "$(grep -c 'permission denied for table migrate_history' <<<"$OUT")"
expect_eq "both forged migrate_record calls refused" 2 "$(grep -c 'ERROR:  migrate_record: the token does not match these values' <<<"$OUT")"
expect_line "migrate_key is not readable" 'permission denied for table migrate_key' "$OUT"
expect_line "no write privilege on migrate_history" '^f$' "$OUT"
# a token migrate_script wrote, for other values than it vouches for
printf 'CREATE TABLE g_five (id integer);\n' >"$DIR/5_five.up.sql"
printf 'DROP TABLE g_five;\n' >"$DIR/5_five.down.sql"
publish
REAL=$(psql -X -q -At -U deployer -d "$DB" -c "SELECT statement FROM migrate_script('$DIR') WHERE statement LIKE '%migrate_record(''5''%'")
expect_line "migrate_script records through migrate_record" "migrate_record\\('5', 'five', " "$REAL"
# without its guard (migration 4 before it is pending), with another down script
FORGED="${REAL%% FROM (SELECT *};"
FORGED=${FORGED//DROP TABLE g_five;/ALTER ROLE deployer SUPERUSER;}
[ "$FORGED" != "$REAL" ] || fail "could not alter the record statement: $REAL"
OUT=$(as deployer "$DB" "$FORGED")
expect_line "a real token with another down script is refused" 'ERROR:  migrate_record: the token does not match these values' "$OUT"
expect_eq "history has no row for 5" 0 "$(pg_q -d "$DB" -c "SELECT count(*) FROM migrate_history WHERE version = '5'")"
rm "$DIR/5_five.up.sql" "$DIR/5_five.down.sql"

# --- a superuser's rollback afterwards runs only the real down scripts ----------------------
OUT=$(PGOPTIONS='-c client_min_messages=warning' pg_q -d "$DB" -c "SELECT migrate_to('$DIR', '0')" 2>&1)
expect_eq "superuser's rollback ($OUT)" 3 "$OUT"
expect_eq "deployer is still not a superuser" f "$(pg_q -c "SELECT rolsuper FROM pg_roles WHERE rolname = 'deployer'")"

# --- migrate_scripts as the deploy role, and the monitoring role ---------------------------
OUT=$(as deployer "$DB2" "
INSERT INTO migrate_scripts VALUES ('1', 'one', 'CREATE TABLE g_one (id integer);', 'DROP TABLE g_one;');
INSERT INTO migrate_scripts VALUES ('2', 'two', 'CREATE TABLE g_two (id integer);', 'DROP TABLE g_two;');
SELECT migrate_apply(NULL, '1');")
expect_eq "the deploy role applies from migrate_scripts" 1 "$OUT"
OUT=$(as monitoring "$DB2" "
SELECT version, state FROM migrations_status;
SELECT version, state FROM migrations_status(NULL) ORDER BY version;
SELECT step, version FROM migrate_plan(NULL);
SELECT migrate_validate(NULL);
SELECT migrate_apply(NULL);
SELECT migrate_rollback(NULL);
SELECT count(*) FROM migrate_check(NULL);
INSERT INTO migrate_scripts VALUES ('3', 'three', 'SELECT 1', NULL);
SELECT count(*) FROM migrate_history;")
expect_eq "the monitoring role reads, and cannot change anything" "1|applied
1|applied
2|pending
1|2
ok
ERROR:  permission denied for function migrate_apply
ERROR:  permission denied for function migrate_rollback
ERROR:  permission denied for function migrate_check
ERROR:  permission denied for table migrate_scripts
1" "$OUT"
expect_eq "monitoring applied nothing" "1" \
  "$(pg_q -d "$DB2" -c "SELECT string_agg(version, ' ' ORDER BY id) FROM migrate_history")"

# --- a role that was granted nothing cannot rehearse ---------------------------------------
OUT=$(as g_nobody "$DB2" "SELECT count(*) FROM migrate_check(NULL);")
expect_eq "a role without grants" "ERROR:  permission denied for function migrate_check" "$OUT"

# --- migrate_revoke takes it all back ------------------------------------------------------
expect_eq "migrate_revoke" "revoked deploy and monitor from deployer" \
  "$(pg_q -d "$DB2" -c "SELECT migrate_revoke('deployer')")"
OUT=$(as deployer "$DB2" "SELECT migrate_apply(NULL); SELECT count(*) FROM migrate_check(NULL);")
expect_line "after migrate_revoke" 'permission denied for function migrate_apply' "$OUT"
expect_line "migrate_check after migrate_revoke" 'permission denied for function migrate_check' "$OUT"

scenario_end
