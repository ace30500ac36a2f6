# shellcheck shell=bash
# migrate_push(dir): the folder as INSERTs into migrate_scripts, for psql on a client whose
# server cannot read the folder (tests/pg/scenarios/15_push_recipe.sh runs that end to end).

# The statements, exactly; run into a SQLite migrate_scripts they give the checksums the folder
# gives; refusals name the file.
test_push_statements() {
  put m/1_a.up.sql <<<"CREATE TABLE a (s TEXT DEFAULT 'it''s');"
  put m/1_a.down.sql <<<'DROP TABLE a;'
  put m/2_b.sql <<<'-- migrate:up
CREATE TABLE b (x INTEGER);
-- migrate:down
DROP TABLE b;'
  put m/3_c/up.sql <<<'CREATE TABLE c (y INTEGER);'
  sqlite_q db "SELECT seq, statement FROM migrate_push('m');" "1|SET standard_conforming_strings = on;
2|INSERT INTO migrate_scripts (version, name, up_sql, down_sql) VALUES ('1', 'a', 'CREATE TABLE a (s TEXT DEFAULT ''it''''s'');
', 'DROP TABLE a;
');
3|INSERT INTO migrate_scripts (version, name, up_sql, down_sql) VALUES ('2', 'b', 'CREATE TABLE b (x INTEGER);
', 'DROP TABLE b;
');
4|INSERT INTO migrate_scripts (version, name, up_sql, down_sql) VALUES ('3', 'c', 'CREATE TABLE c (y INTEGER);
', NULL);"
  # the rows give the folder's checksums
  sqlite_q db "SELECT migrate_init();" "ok"
  sqlite_run db <<<"SELECT statement FROM migrate_push('m') WHERE seq > 1;"
  printf '%s\n' "$OUT" | "$SQLITE3" db || fail "the INSERTs did not run"
  sqlite_q db "SELECT version, name, checksum FROM migrations_status(NULL) EXCEPT SELECT version, name, checksum FROM migrations_status('m');
SELECT count(*) FROM migrations_status(NULL);" "3"
  # refusals
  put n/1_i.sql <<<'-- migrate:up transaction:false
VACUUM;'
  sqlite_run db <<<"SELECT * FROM migrate_push('n');"
  expect_error "1_i.sql: migration 1 is marked no-transaction on its section line, which a migrate_scripts row cannot carry; nothing was written"
  mkdir empty
  sqlite_run db <<<"SELECT * FROM migrate_push('empty');"
  expect_error "no migration files found in \"empty\" (relative to the working directory \"$PWD\"); nothing was written"
}
