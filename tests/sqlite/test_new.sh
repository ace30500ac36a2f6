# shellcheck shell=bash
# migrate_new: a new migration's files, named with the current UTC time, in the folder's layout.

# NEW_VERSION_RE: what a version made from the clock looks like.
NEW_VERSION_RE='^20[0-9]{12}$'

# The layout of the folder's newest migration is kept; pairs in a folder without migrations;
# a layout asked for wins; what it creates is an empty migration that applies.
test_new_follows_the_folder() {
  mkdir -p empty sections folder flyway pairs
  put sections/20240101000000_a.sql <<<'-- migrate:up
CREATE TABLE a (x INTEGER);
-- migrate:down
DROP TABLE a;'
  put folder/20240101000000_a/up.sql <<<'CREATE TABLE a (x INTEGER);'
  put flyway/V20240101000000__a.sql <<<'CREATE TABLE a (x INTEGER);'
  put pairs/20240101000000_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  local dir out v
  for dir in empty sections folder flyway pairs; do
    sqlite_run db <<<"SELECT migrate_new('$dir', 'add_users');"
    expect_rc 0
    out=$OUT
    v=$(printf '%s\n' "$out" | head -n 1 | grep -oE '20[0-9]{12}')
    expect_match "the version of the $dir migration" "$NEW_VERSION_RE" "$v"
    case $dir in
      empty | pairs) expect_eq "the $dir files" "$dir/${v}_add_users.up.sql
$dir/${v}_add_users.down.sql" "$out" ;;
      sections) expect_eq "the $dir file" "$dir/${v}_add_users.sql" "$out"
        expect_eq "its sections" "-- migrate:up

-- migrate:down" "$(cat "$dir/${v}_add_users.sql")" ;;
      folder) expect_eq "the $dir files" "$dir/${v}_add_users/up.sql
$dir/${v}_add_users/down.sql" "$out" ;;
      flyway) expect_eq "the $dir files" "$dir/V${v}__add_users.sql
$dir/U${v}__add_users.sql" "$out" ;;
    esac
    # the new migration is pending and applies (comments only), down script included
    sqlite_q "$dir.db" "SELECT migrate_apply('$dir'); SELECT state FROM migrations_status('$dir') WHERE name = 'add_users';" "$([ "$dir" = empty ] && echo 1 || echo 2)
applied"
  done
  mkdir asked
  sqlite_run db <<<"SELECT migrate_new('asked', 'x', 'folder');"
  expect_rc 0
  expect_match "a layout asked for" '^asked/20[0-9]{12}_x/up\.sql' "$OUT"
}

# Refusals change nothing: a name that is not plain, an unknown layout, a folder whose newest
# version sorts after the clock's, a missing folder, and NULL (migrate_scripts holds no files,
# so the hint says what to insert).
test_new_refusals() {
  put m/99990101000000_future.sql <<<'SELECT 1;'
  sqlite_run db <<<"SELECT migrate_new('m', 'bad name');"
  expect_error "migrate_new: name \"bad name\" must be 1 to 200 letters, digits, '_' or '-'; nothing was created"
  sqlite_run db <<<"SELECT migrate_new('m', '../x');"
  expect_error "migrate_new: name \"../x\" must be 1 to 200 letters, digits, '_' or '-'; nothing was created"
  sqlite_run db <<<"SELECT migrate_new('m', 'x', 'weird');"
  expect_error "migrate_new: layout must be 'pairs', 'sections', 'folder' or 'flyway', not \"weird\""
  sqlite_run db <<<"SELECT migrate_new('m', 'late');"
  expect_rc 1
  expect_match "a version that would not sort after the newest" "^migrate_new: the new version 20[0-9]{12} would not sort after 99990101000000 \(99990101000000_future.sql\), the newest migration in the folder; nothing was created" "$ERR"
  sqlite_run db <<<"SELECT migrate_new(NULL, 'x');"
  expect_rc 1
  expect_match "NULL means migrate_scripts" "^migrate_new: a NULL folder means the migrate_scripts table, which holds no files; nothing was created
HINT: insert the migration there: INSERT INTO migrate_scripts \(version, name, up_sql, down_sql\) VALUES \('20[0-9]{12}', 'x', '...', '...'\)$" "$ERR"
  sqlite_run db <<<"SELECT migrate_new('m', NULL);"
  expect_error "migrate_new needs a name"
  expect_eq "files after the refusals" "m/99990101000000_future.sql" "$(find m -type f)"
  # from schema code it is refused like every function that writes
  sqlite_run db <<<"CREATE VIEW v AS SELECT migrate_new('m', 'x'); SELECT * FROM v;"
  expect_rc 1
  expect_eq "files after the view" "m/99990101000000_future.sql" "$(find m -type f)"
}
