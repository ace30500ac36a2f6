# shellcheck shell=bash
# The README's CI recipe for SQLite, extracted from README.md between its ci-recipe-sqlite
# markers and run as printed, by bash with DB and MIGRATIONS set and a sqlite3 on PATH that
# finds the module by name (as after make install): a clean folder passes; an edited applied
# migration, an out-of-order one and a failing one each fail the pipeline with exit status 1
# and leave the database as it was.

# ci_recipe: run the recipe on db and m; sets RC, OUT (stdout) and ERR (stderr).
ci_recipe() {
  sed -n '/<!-- ci-recipe-sqlite:begin -->/,/<!-- ci-recipe-sqlite:end -->/p' "$REPO_ROOT/README.md" |
    grep -v -e '<!--' -e '```' >recipe.sh
  [ -s recipe.sh ] || fail "README.md has no SQLite CI recipe between the markers"
  mkdir -p bin
  # sqlite3 as the suite runs it (under valgrind or the sanitizers when they are on)
  local runner= tool=("${RUNNER[@]}")
  # with -bail, the shell exits on a failed argument without closing the database, so what
  # SQLite holds then is "possibly lost" to valgrind: the shell's exit, not a leak of the module
  # (every other case checks leaks); memory errors are still reported
  [ "$MIGRATE_VALGRIND" = 1 ] && tool=(valgrind -q --error-exitcode=99 --leak-check=no)
  [ ${#tool[@]} -gt 0 ] && runner=$(printf '%q ' "${tool[@]}")
  printf '#!/usr/bin/env bash\nexec %s%q "$@"\n' "$runner" "$(command -v "$SQLITE3")" >bin/sqlite3
  chmod +x bin/sqlite3
  DB=db MIGRATIONS=m PATH="$PWD/bin:$PATH" LD_LIBRARY_PATH="$(dirname "$MIGRATE_SO")" \
    timeout "$SQ_TIME_LIMIT" bash recipe.sh >.ci.out 2>.ci.err
  RC=$?
  ASSERT_CONTEXT="the README's CI recipe"
  check_tool_errors .ci.err "$RC"
  read_results .ci.out .ci.err
}

test_ci_recipe_as_printed() {
  put m/1_a.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (y INTEGER);'
  put m/2_b.down.sql <<<'DROP TABLE b;'
  ci_recipe
  expect_rc 0
  expect_eq "stdout of a clean run" "ok
2" "$OUT"
  sqlite_q db "SELECT version, state FROM migrations_status('m');" "1|applied
2|applied"

  # an applied migration edited: refused before anything is applied
  put m/3_c.sql <<<'CREATE TABLE c (z INTEGER);'
  put m/1_a.sql <<<'CREATE TABLE a (x INTEGER, extra TEXT);'
  local schema
  schema=$("$SQLITE3" db "SELECT name, sql FROM sqlite_schema ORDER BY name")
  ci_recipe
  expect_rc 1
  expect_match "the error for an edited migration" "1_a.sql" "$ERR"
  expect_eq "schema after the refused run" "$schema" "$("$SQLITE3" db "SELECT name, sql FROM sqlite_schema ORDER BY name")"
  put m/1_a.sql <<<'CREATE TABLE a (x INTEGER);'

  # an older migration that appeared after newer ones were applied
  put m/0_z.sql <<<'CREATE TABLE z (w INTEGER);'
  ci_recipe
  expect_rc 1
  expect_match "the error for an out-of-order migration" "out of order" "$ERR"
  expect_eq "schema after the refused run" "$schema" "$("$SQLITE3" db "SELECT name, sql FROM sqlite_schema ORDER BY name")"
  rm m/0_z.sql

  # a migration that fails: the call applies nothing, 3_c included
  put m/4_bad.sql <<<'CREATE TABLE d (v INTEGER); INSERT INTO no_such_table VALUES (1);'
  ci_recipe
  expect_rc 1
  expect_match "the error names the failing file" "4_bad.sql" "$ERR"
  expect_eq "schema after the failed run" "$schema" "$("$SQLITE3" db "SELECT name, sql FROM sqlite_schema ORDER BY name")"
  rm m/4_bad.sql
  ci_recipe
  expect_rc 0
  sqlite_q db "SELECT version, state FROM migrations_status('m');" "1|applied
2|applied
3|applied"
}
