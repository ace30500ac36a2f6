#!/usr/bin/env bash
# The README's CI recipe for PostgreSQL, extracted from README.md between its ci-recipe-pg
# markers and run as printed, by bash with MIGRATIONS and PGDATABASE set: a clean folder
# passes; an edited applied migration, an out-of-order one and a failing one each fail the
# pipeline with exit status 1 and leave the database as it was.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin ci_recipe

new_db DB || { fail "could not create the database"; scenario_end; }
DIR=$(new_dir ci)
sed -n '/<!-- ci-recipe-pg:begin -->/,/<!-- ci-recipe-pg:end -->/p' "$REPO_DIR/README.md" |
  grep -v -e '<!--' -e '```' >"$WORK/recipe.sh"
[ -s "$WORK/recipe.sh" ] || fail "README.md has no PostgreSQL CI recipe between the markers"

# recipe EXPECTED_STATUS WHAT: run it; its stderr is kept in $ERR
recipe() {
  local status
  MIGRATIONS=$DIR PGDATABASE=$DB PGOPTIONS='-c client_min_messages=warning' \
    bash "$WORK/recipe.sh" >"$WORK/out" 2>"$WORK/err"
  status=$?
  ERR=$(cat "$WORK/err")
  expect_eq "exit status of the recipe: $2" "$1" "$status"
}
schema() {
  pg_q -d "$DB" -c "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE tablename LIKE 'ci\_%'"
}

echo 'CREATE TABLE ci_a (x integer);' >"$DIR/1_a.sql"
printf -- '-- migrate:up\nCREATE TABLE ci_b (y integer);\n-- migrate:down\nDROP TABLE ci_b;\n' >"$DIR/2_b.sql"
publish
recipe 0 "a clean folder"
expect_eq "what the clean run printed" " migrate_validate 
------------------
 ok
(1 row)

 migrate_apply 
---------------
             2
(1 row)" "$(cat "$WORK/out")"
expect_eq "tables after the clean run" "ci_a,ci_b" "$(schema)"

# an applied migration edited: refused before anything is applied
echo 'CREATE TABLE ci_c (z integer);' >"$DIR/3_c.sql"
echo 'CREATE TABLE ci_a (x integer, extra text);' >"$DIR/1_a.sql"
publish
recipe 1 "an edited applied migration"
expect_line "the error for an edited migration" "1_a.sql" "$ERR"
expect_eq "tables after the refused run" "ci_a,ci_b" "$(schema)"
echo 'CREATE TABLE ci_a (x integer);' >"$DIR/1_a.sql"

# an older migration that appeared after newer ones were applied
echo 'CREATE TABLE ci_z (w integer);' >"$DIR/0_z.sql"
publish
recipe 1 "an out-of-order migration"
expect_line "the error for an out-of-order migration" "out of order" "$ERR"
expect_eq "tables after the refused run" "ci_a,ci_b" "$(schema)"
rm "$DIR/0_z.sql"

# a migration that fails: the call applies nothing, 3_c included
printf 'CREATE TABLE ci_d (v integer);\nINSERT INTO ci_no_such_table VALUES (1);\n' >"$DIR/4_bad.sql"
publish
recipe 1 "a failing migration"
expect_line "the error names the failing file" "4_bad.sql" "$ERR"
expect_eq "tables after the failed run" "ci_a,ci_b" "$(schema)"
rm "$DIR/4_bad.sql"
recipe 0 "the folder fixed"
expect_eq "tables at the end" "ci_a,ci_b,ci_c" "$(schema)"

scenario_end
