# shellcheck shell=bash
# A database that 0.1.0 set up goes on working with this release: its migrate_history (the same
# columns) is read and written as it is, and its migrate_scripts, which 0.1.0 made without the
# version triggers, gets them from the first call that changes the database, inside that call.

# migrate_history and migrate_scripts exactly as 0.1.0's migrate_init() created them.
UPGRADE_010_DDL=$(
  cat <<'EOF'
CREATE TABLE "main"."migrate_history" (
  id INTEGER PRIMARY KEY,
  version TEXT NOT NULL,
  name TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('up', 'down', 'baseline', 'repair')),
  checksum TEXT,
  down_checksum TEXT,
  up_sql TEXT,
  down_sql TEXT,
  script TEXT,
  applied_at TEXT NOT NULL,
  applied_by TEXT,
  execution_ms INTEGER NOT NULL DEFAULT 0,
  success INTEGER NOT NULL CHECK (success IN (0, 1)),
  completed_statements INTEGER
);
CREATE TABLE "main"."migrate_scripts" (
  version TEXT PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  up_sql TEXT NOT NULL,
  down_sql TEXT
);
CREATE TRIGGER IF NOT EXISTS "main"."migrate_scripts_unchanged"
BEFORE INSERT ON "migrate_scripts"
WHEN EXISTS (SELECT 1 FROM "main"."migrate_scripts" WHERE version = NEW.version)
BEGIN
  SELECT CASE WHEN (SELECT name IS NEW.name AND up_sql IS NEW.up_sql AND down_sql IS NEW.down_sql FROM "main"."migrate_scripts" WHERE version = NEW.version)
    THEN RAISE(IGNORE)
    ELSE RAISE(ABORT, 'migrate_scripts: this version already exists with other content')
  END;
END;
EOF
)

# History written by 0.1.0 (one migration applied, with its checksum) is read as applied; the
# next apply runs only the pending one; the version triggers arrive with that apply and not
# with a status read; afterwards a bad version is refused at INSERT.
test_upgrade_database_of_010() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/1_a.down.sql <<<'DROP TABLE a;'
  put m/2_b.up.sql <<<'CREATE TABLE b (y INTEGER);'
  put m/2_b.down.sql <<<'DROP TABLE b;'
  "$SQLITE3" db "$UPGRADE_010_DDL
CREATE TABLE a (x INTEGER);
INSERT INTO migrate_history (version, name, direction, checksum, down_checksum, up_sql, down_sql,
  script, applied_at, applied_by, execution_ms, success)
VALUES ('1', 'a', 'up', '$(sha m/1_a.up.sql)', '$(sha m/1_a.down.sql)', 'CREATE TABLE a (x INTEGER);
', 'DROP TABLE a;
', '1_a.up.sql', '2024-01-01T00:00:00.000Z', 'someone', 3, 1);" || fail "could not set up the 0.1.0 database"
  local triggers="SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE type = 'trigger' ORDER BY name);"
  sqlite_q db "SELECT version, state FROM migrations_status('m');
SELECT migrate_validate('m');
$triggers" "1|applied
2|pending
ok
migrate_scripts_unchanged"
  sqlite_q db "SELECT migrate_apply('m');
SELECT version, state FROM migrations_status('m');
$triggers" "1
1|applied
2|applied
migrate_scripts_unchanged,migrate_scripts_version,migrate_scripts_version_update"
  sqlite_run db <<<"INSERT INTO migrate_scripts VALUES ('abc', 'x', 'SELECT 1;', NULL);"
  expect_error "migrate_scripts: version is not a version (expected digits joined by '.', '_' or '-', such as 20240101 or 2.15.0)"
  # the 0.1.0 row is reverted with the down script it recorded, and history keeps every row
  sqlite_q db "SELECT migrate_to('m', '0');
SELECT count(*) FROM sqlite_schema WHERE name IN ('a', 'b');
SELECT group_concat(version || direction, ',') FROM (SELECT version, direction FROM migrate_history ORDER BY id);" "2
0
1up,2up,2down,1down"
}

# A call that fails leaves a 0.1.0 database exactly as it was, triggers included.
test_upgrade_failed_call_adds_nothing() {
  put m/1_bad.sql <<<'CREATE TABLE a (x INTEGER); SELECT no_such_function();'
  "$SQLITE3" db "$UPGRADE_010_DDL" || fail "could not set up the 0.1.0 database"
  local before
  before=$("$SQLITE3" db "SELECT type, name, sql FROM sqlite_schema ORDER BY name")
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_rc 1
  expect_eq "schema after a failed call" "$before" "$("$SQLITE3" db "SELECT type, name, sql FROM sqlite_schema ORDER BY name")"
}
