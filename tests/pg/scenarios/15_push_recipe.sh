#!/usr/bin/env bash
# The README's push recipe, extracted between its push-recipe markers and run as printed: a
# folder the server cannot read (as on a laptop or a CI runner) goes into migrate_scripts
# through migrate_push (the SQLite module on the client) and is applied, in one psql
# transaction. The result has the checksums and states the folder itself gives when the server
# reads it; pushing again is a no-op; an edited migration fails the whole transaction and
# leaves the database as it was.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin push_recipe

[ -f "$REPO_DIR/sqlite_ext/migrate.so" ] || { fail "sqlite_ext/migrate.so is missing: make sqlite"; scenario_end; }
new_db PUSHED || { fail "could not create a database"; scenario_end; }
new_db DIRECT || { fail "could not create a database"; scenario_end; }
sed -n '/<!-- push-recipe:begin -->/,/<!-- push-recipe:end -->/p' "$REPO_DIR/README.md" |
  grep -v -e '<!--' -e '```' >"$WORK/recipe.sh"
[ -s "$WORK/recipe.sh" ] || fail "README.md has no push recipe between the markers"

# every layout, quotes, a backslash and a no-transaction-free folder
CLIENT="$WORK/client"
mkdir -p "$CLIENT/m/3_c"
printf "CREATE TABLE p_a (s text DEFAULT 'it''s a \\\\ path');\n" >"$CLIENT/m/1_a.up.sql"
printf 'DROP TABLE p_a;\n' >"$CLIENT/m/1_a.down.sql"
printf -- '-- migrate:up\nCREATE TABLE p_b (x integer);\n-- migrate:down\nDROP TABLE p_b;\n' >"$CLIENT/m/2_b.sql"
printf 'CREATE TABLE p_c (y integer);\n' >"$CLIENT/m/3_c/up.sql"
printf 'DROP TABLE p_c;\n' >"$CLIENT/m/3_c/down.sql"
printf 'CREATE FUNCTION p_f() RETURNS text LANGUAGE sql AS $$ SELECT $q$;$q$ $$;\n' >"$CLIENT/m/V4__f.sql"
chmod 700 "$CLIENT" # the server's OS user cannot read it

# push ROLE: run the recipe on $PUSHED; status in $RC, stderr in $ERR
push() {
  MIGRATIONS="$CLIENT/m" PGDATABASE=$PUSHED PGOPTIONS='-c client_min_messages=warning' \
    LD_LIBRARY_PATH="$REPO_DIR/sqlite_ext" bash "$WORK/recipe.sh" >"$WORK/out" 2>"$WORK/err"
  RC=$?
  ERR=$(cat "$WORK/err")
}
push
expect_eq "exit status of the recipe" "0" "$RC"
expect_eq "its stderr" "" "$ERR"

# the same folder, read by the server, into the other database
SERVED=$(new_dir served)
cp -R "$CLIENT/m/." "$SERVED/"
publish
expect_eq "the folder applied directly" "4" \
  "$(PGOPTIONS='-c client_min_messages=warning' pg_q -d "$DIRECT" -c "SELECT migrate_apply('$SERVED')")"
STATE="SELECT version, name, state, checksum, applied_checksum FROM migrations_status() ORDER BY version"
expect_eq "versions, names, states and checksums: pushed and read from the folder" \
  "$(pg_q -d "$DIRECT" -c "$STATE")" "$(pg_q -d "$PUSHED" -c "$STATE")"
expect_eq "states against the folder itself" "applied,applied,applied,applied" \
  "$(pg_q -d "$PUSHED" -c "SELECT string_agg(state, ',' ORDER BY version) FROM migrations_status('$SERVED')")"
expect_eq "the quoted default survived" "it's a \\ path" \
  "$(pg_q -d "$PUSHED" -c "INSERT INTO p_a DEFAULT VALUES RETURNING s")"

# again: a no-op
push
expect_eq "pushing again" "0" "$RC"
expect_eq "rows after pushing again" "4" "$(pg_q -d "$PUSHED" -c "SELECT count(*) FROM migrate_scripts")"

# an edited migration plus a new one: the transaction fails, nothing of either lands
printf 'CREATE TABLE p_c (y integer, z integer);\n' >"$CLIENT/m/3_c/up.sql"
printf 'CREATE TABLE p_e (w integer);\n' >"$CLIENT/m/5_e.sql"
push
expect_eq "exit status with an edited migration" "3" "$RC"
expect_line "the error" "already exists with other content" "$ERR"
expect_eq "rows after the failed push" "4" "$(pg_q -d "$PUSHED" -c "SELECT count(*) FROM migrate_scripts")"
expect_eq "tables after the failed push" "" "$(pg_q -d "$PUSHED" -c "SELECT tablename FROM pg_tables WHERE tablename = 'p_e'")"

scenario_end
