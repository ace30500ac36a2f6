# shellcheck shell=bash
# migrate_apply: what a successful call does, returns and records.

# Three migrations in two layouts: the call returns 3 and leaves the schema and one history row
# per migration with the right checksums, scripts and stamps.
test_apply_returns_count_schema_and_history() {
  put m/1_users.up.sql <<'EOF'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
CREATE INDEX users_email ON users (email);
EOF
  put m/1_users.down.sql <<'EOF'
DROP TABLE users;
EOF
  put m/2_posts.sql <<'EOF'
-- migrate:up
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));
-- migrate:down
DROP TABLE posts;
EOF
  put m/3_seed.sql <<'EOF'
INSERT INTO users VALUES (1, 'ada@example.com');
EOF
  local up1 down1 up2 down2 up3
  up1=$(sha m/1_users.up.sql)
  down1=$(sha m/1_users.down.sql)
  up2=$(sha_text $'CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));\n')
  down2=$(sha_text $'DROP TABLE posts;\n')
  up3=$(sha m/3_seed.sql)

  sqlite_q db "SELECT migrate_apply('m');" "3"

  sqlite_run db <<EOF
SELECT type, name FROM sqlite_schema ORDER BY name;
SELECT * FROM users;
SELECT id, version, name, direction, checksum, down_checksum, script, applied_by, success,
       execution_ms >= 0, applied_at GLOB '$ISO_GLOB'
FROM migrate_history ORDER BY id;
SELECT version, hex(up_sql), hex(down_sql) FROM migrate_history ORDER BY id;
SELECT version, name, state, checksum = applied_checksum, applied_by FROM migrations_status('m');
EOF
  expect_ok "table|migrate_history
table|migrate_schema_history
table|posts
table|users
index|users_email
1|ada@example.com
1|1|users|up|$up1|$down1|1_users.up.sql|$ME|1|1|1
2|2|posts|up|$up2|$down2|2_posts.sql|$ME|1|1|1
3|3|seed|up|$up3||3_seed.sql|$ME|1|1|1
1|$(hex_text "$(cat m/1_users.up.sql)"$'\n')|$(hex_text $'DROP TABLE users;\n')
2|$(hex_text $'CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));\n')|$(hex_text $'DROP TABLE posts;\n')
3|$(hex_text $'INSERT INTO users VALUES (1, \'ada@example.com\');\n')|
1|users|applied|1|$ME
2|posts|applied|1|$ME
3|seed|applied|1|$ME"
}

# A second call finds nothing to do: it returns 0 and does not write to the database file.
test_rerun_is_idempotent_and_writes_nothing() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (y INTEGER);'
  sqlite_q db "SELECT migrate_apply('m');" "2"
  local before after
  before=$(stat -c '%s %.9Y' db; sha db)
  # connection 1 watches PRAGMA data_version, which moves when another connection commits
  sqlite_run db <<'EOF'
.connection 1
.open db
PRAGMA main.data_version;
.connection 0
SELECT migrate_apply('m');
SELECT migrate_apply('m');
.connection 1
PRAGMA main.data_version;
.connection 0
SELECT count(*) FROM migrate_history;
EOF
  expect_ok "1
0
0
1
2"
  after=$(stat -c '%s %.9Y' db; sha db)
  expect_eq "database file (size, mtime, sha256)" "$before" "$after"
  [ ! -e db-journal ] || fail "a journal was left behind"

  # the same watch sees a call that does apply something
  put m/3_c.up.sql <<<'CREATE TABLE c (z INTEGER);'
  sqlite_run db <<'EOF'
.connection 1
.open db
PRAGMA main.data_version;
.connection 0
SELECT migrate_apply('m');
.connection 1
PRAGMA main.data_version;
EOF
  expect_ok "1
1
2"
}

# A target applies the pending migrations up to it, compared as numbers (10 comes after 2).
test_apply_with_target() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put m/10_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/20240101_d.up.sql <<<'CREATE TABLE d (x INTEGER);'
  sqlite_run db <<'EOF'
SELECT migrate_apply('m', '2');
SELECT version, state FROM migrations_status('m');
SELECT name FROM sqlite_schema WHERE name NOT IN ('migrate_history', 'migrate_schema_history') ORDER BY 1;
SELECT migrate_apply('m', '1');
SELECT migrate_apply('m', '10.0');
SELECT migrate_apply('m');
SELECT version FROM migrate_history ORDER BY id;
EOF
  expect_ok "2
1|applied
2|applied
10|pending
20240101|pending
a
b
0
1
1
1
2
10
20240101"
  # a target that names no migration is refused, with the versions on each side of it
  sqlite_run db <<<"SELECT migrate_apply('m', '5');"
  expect_error "target 5 is not the version of any migration, in the source or in history; nothing was changed
The nearest versions are 2 (below) and 10 (above).
HINT: give the version of an existing migration; '0' means before every migration"
  sqlite_run db <<<"SELECT * FROM migrate_plan('m', '2024010');"
  expect_error "target 2024010 is not the version of any migration, in the source or in history; nothing was changed
The nearest versions are 10 (below) and 20240101 (above).
HINT: give the version of an existing migration; '0' means before every migration"
  sqlite_run db <<<"SELECT migrate_apply('m', 'latest');"
  expect_error "target \"latest\" is not a version (expected digits joined by '.', '_' or '-', such as 20240101 or 2.15.0)"
}

# migrate_plan lists what migrate_apply would run, with and without a target, and writes nothing.
test_plan_output_and_target() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/1_a.down.sql <<<'DROP TABLE a;'
  put m/2_b.sql <<'EOF'
-- migrate:up
CREATE TABLE b (x INTEGER);
-- migrate:down
DROP TABLE b;
EOF
  put m/3_c/up.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/10_d.up.sql <<<'CREATE TABLE d (x INTEGER);'
  sqlite_run db <<'EOF'
.headers on
SELECT * FROM migrate_plan('m');
.headers off
SELECT * FROM migrate_plan('m', '3');
SELECT '--';
SELECT * FROM migrate_plan('m', '0');
SELECT count(*) FROM sqlite_schema;
SELECT migrate_apply('m', '1');
SELECT * FROM migrate_plan('m');
SELECT * FROM migrate_plan('m', '2');
SELECT step, version FROM migrate_plan WHERE dir = 'm' AND target = '3';
EOF
  expect_ok "step|direction|version|name|script
1|up|1|a|1_a.up.sql
2|up|2|b|2_b.sql
3|up|3|c|3_c/up.sql
4|up|10|d|10_d.up.sql
1|up|1|a|1_a.up.sql
2|up|2|b|2_b.sql
3|up|3|c|3_c/up.sql
--
0
1
1|up|2|b|2_b.sql
2|up|3|c|3_c/up.sql
3|up|10|d|10_d.up.sql
1|up|2|b|2_b.sql
1|2
2|3"
  sqlite_run db <<<"SELECT * FROM migrate_plan;"
  expect_error "migrate_plan needs a migrations folder"
  sqlite_run db <<<"SELECT * FROM migrate_plan('m', 'next');"
  expect_error "target \"next\" is not a version (expected digits joined by '.', '_' or '-', such as 20240101 or 2.15.0)"
}

# Every state, the column order, and the history-only form.
test_status_states_and_columns() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put m/4_d.up.sql <<<'CREATE TABLE d (x INTEGER);'
  put m/5_e.up.sql <<<'CREATE TABLE e (x INTEGER);'
  put m/6_f.up.sql <<<'CREATE TABLE f (x INTEGER);'
  local a b d f old_b
  a=$(sha m/1_a.up.sql)
  old_b=$(sha m/2_b.up.sql)
  d=$(sha m/4_d.up.sql)
  f=$(sha m/6_f.up.sql)
  mv m/5_e.up.sql 5_e.up.sql.aside
  sqlite_run db <<'EOF'
SELECT migrate_apply('m');
INSERT INTO migrate_history (version, name, direction, checksum, script, applied_at, applied_by,
                             execution_ms, success)
VALUES ('5', 'e', 'up', 'abc', '5_e.up.sql', '2024-01-01T00:00:00.000Z', 'tester', 7, 0);
EOF
  expect_ok "4"
  mv 5_e.up.sql.aside m/5_e.up.sql
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER, y TEXT);' # modified
  b=$(sha m/2_b.up.sql)
  rm m/4_d.up.sql                                              # missing
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'            # out of order
  put m/7_g.up.sql <<<'CREATE TABLE g (x INTEGER);'            # pending
  local c e g
  c=$(sha m/3_c.up.sql)
  e=$(sha m/5_e.up.sql)
  g=$(sha m/7_g.up.sql)

  sqlite_run db <<'EOF'
.headers on
SELECT * FROM migrations_status('m') WHERE version = '7';
.headers off
SELECT version, name, state, script, checksum, applied_checksum, applied_at GLOB '2*', applied_by,
       execution_ms IS NOT NULL
FROM migrations_status('m');
SELECT typeof(execution_ms) FROM migrations_status('m') WHERE version = '5';
SELECT '--';
SELECT version, name, state, script, checksum IS NULL, applied_checksum IS NOT NULL
FROM migrations_status;
SELECT count(*) FROM migrations_status();
SELECT '--';
SELECT version, state FROM migrations_status WHERE dir = 'm' AND state <> 'applied';
EOF
  expect_ok "version|name|state|script|checksum|applied_checksum|applied_at|applied_by|execution_ms
7|g|pending|7_g.up.sql|$g||||
1|a|applied|1_a.up.sql|$a|$a|1|$ME|1
2|b|modified|2_b.up.sql|$b|$old_b|1|$ME|1
3|c|out_of_order|3_c.up.sql|$c||||0
4|d|missing|4_d.up.sql||$d|1|$ME|1
5|e|failed|5_e.up.sql|$e||1|tester|1
6|f|applied|6_f.up.sql|$f|$f|1|$ME|1
7|g|pending|7_g.up.sql|$g||||0
integer
--
1|a|applied|1_a.up.sql|1|1
2|b|applied|2_b.up.sql|1|1
4|d|applied|4_d.up.sql|1|1
5|e|failed|5_e.up.sql|1|0
6|f|applied|6_f.up.sql|1|1
5
--
2|modified
3|out_of_order
4|missing
5|failed
7|pending"

  # apply and plan refuse, naming every problem at once, and change nothing
  local problems="4 problems with the migrations; nothing was changed
2_b.up.sql: migration 2 was modified after it was applied (applied checksum $old_b, file checksum $b)
3_c.up.sql: migration 3 is out of order: it is pending but older than the newest applied migration 6
4_d.up.sql: migration 4 was applied but its file is missing from the folder
5_e.up.sql: migration 5 failed when it last ran; its script has changed since, but only a migration marked no-transaction resumes
HINT: restore the applied script as it was, or accept the change with migrate_repair; change an applied migration by adding a new one"
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "$problems"
  sqlite_run db <<<"SELECT * FROM migrate_plan('m');"
  expect_error "$problems"
  sqlite_q db "SELECT count(*), sum(success) FROM migrate_history; SELECT count(*) FROM sqlite_schema WHERE name IN ('c', 'g');" "5|4
0"
}

# Empty and comments-only up scripts are valid no-ops: applied and recorded.
test_empty_and_comment_only_scripts() {
  : | put m/1_empty.up.sql
  put m/2_comments.up.sql <<'EOF'
-- nothing to do yet
/* really
   nothing */
EOF
  put m/3_sections.sql <<'EOF'
-- migrate:up

-- migrate:down
SELECT 1;
EOF
  printf '   \n\n' | put m/4_blank.sql
  put m/5_real.up.sql <<<'CREATE TABLE t (x INTEGER);'
  local empty comments sections blank
  empty=$(sha_text '')
  comments=$(sha m/2_comments.up.sql)
  sections=$(sha_text $'\n')
  blank=$(sha m/4_blank.sql)
  sqlite_q db "SELECT migrate_apply('m');
SELECT version, name, direction, checksum, success, length(up_sql) FROM migrate_history ORDER BY id;
SELECT count(*) FROM migrations_status('m') WHERE state = 'applied';
SELECT count(*) FROM migrate_plan('m');" "5
1|empty|up|$empty|1|0
2|comments|up|$comments|1|$(wc -c <m/2_comments.up.sql)
3|sections|up|$sections|1|1
4|blank|up|$blank|1|5
5|real|up|$(sha m/5_real.up.sql)|1|$(wc -c <m/5_real.up.sql)
5
0"
}

# Line endings and a byte order mark are not changes: an applied file saved with CRLF or a BOM
# (or applied that way and saved back with LF) is still applied.
test_crlf_and_bom_edits_are_not_modifications() {
  printf 'CREATE TABLE a (x INTEGER);\nINSERT INTO a VALUES (1);\n' | put m/1_a.up.sql
  printf '\xEF\xBB\xBF-- migrate:up\r\nCREATE TABLE b (y INTEGER);\r\n-- migrate:down\r\nDROP TABLE b;\r\n' |
    put m/2_b.sql
  local a b
  a=$(sha m/1_a.up.sql)
  b=$(sha_text $'CREATE TABLE b (y INTEGER);\n')
  sqlite_q db "SELECT migrate_apply('m');
SELECT version, checksum, hex(up_sql) FROM migrate_history ORDER BY id;" "2
1|$a|$(hex_text "$(cat m/1_a.up.sql)"$'\n')
2|$b|$(hex_text $'CREATE TABLE b (y INTEGER);\n')"

  printf '\xEF\xBB\xBFCREATE TABLE a (x INTEGER);\r\nINSERT INTO a VALUES (1);\r\n' >m/1_a.up.sql
  printf -- '-- migrate:up\nCREATE TABLE b (y INTEGER);\n-- migrate:down\nDROP TABLE b;\n' >m/2_b.sql
  sqlite_q db "SELECT version, state, checksum = applied_checksum FROM migrations_status('m');
SELECT count(*) FROM migrate_plan('m');
SELECT migrate_apply('m');" "1|applied|1
2|applied|1
0
0"

  # whereas a real edit is one
  printf 'CREATE TABLE a (x INTEGER);\nINSERT INTO a VALUES (2);\n' >m/1_a.up.sql
  sqlite_q db "SELECT version, state FROM migrations_status('m');" "1|modified
2|applied"
}

# Pairs, dbmate and goose sections, folders and Flyway names in one folder.
test_all_naming_layouts_in_one_folder() {
  put m/1_pair.up.sql <<<'CREATE TABLE pair (x INTEGER);'
  put m/1_pair.down.sql <<<'DROP TABLE pair;'
  put m/2_dbmate.sql <<'EOF'
-- migrate:up
CREATE TABLE dbmate (x INTEGER);

-- migrate:down
DROP TABLE dbmate;
EOF
  put m/3_goose.sql <<'EOF'
-- +goose Up
CREATE TABLE goose (x INTEGER);

-- +goose Down
DROP TABLE goose;
EOF
  put m/4_folder/up.sql <<<'CREATE TABLE folder (x INTEGER);'
  put m/4_folder/down.sql <<<'DROP TABLE folder;'
  put m/V5_1__flyway.sql <<<'CREATE TABLE flyway (x INTEGER);'
  put m/U5_1__flyway.sql <<<'DROP TABLE flyway;'
  put m/6_up_only.sql <<<'CREATE TABLE up_only (x INTEGER);'
  put m/README.md <<<'# not a migration'
  : | put m/.gitkeep

  sqlite_run db <<'EOF'
SELECT version, name, state, script FROM migrations_status('m');
SELECT migrate_apply('m');
SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT IN ('migrate_history', 'migrate_schema_history') ORDER BY rowid;
SELECT version, name, script, hex(up_sql), hex(down_sql), down_checksum FROM migrate_history
ORDER BY id;
EOF
  expect_ok "1|pair|pending|1_pair.up.sql
2|dbmate|pending|2_dbmate.sql
3|goose|pending|3_goose.sql
4|folder|pending|4_folder/up.sql
5.1|flyway|pending|V5_1__flyway.sql
6|up_only|pending|6_up_only.sql
6
pair
dbmate
goose
folder
flyway
up_only
1|pair|1_pair.up.sql|$(hex_text $'CREATE TABLE pair (x INTEGER);\n')|$(hex_text $'DROP TABLE pair;\n')|$(sha m/1_pair.down.sql)
2|dbmate|2_dbmate.sql|$(hex_text $'CREATE TABLE dbmate (x INTEGER);\n\n')|$(hex_text $'DROP TABLE dbmate;\n')|$(sha_text $'DROP TABLE dbmate;\n')
3|goose|3_goose.sql|$(hex_text $'CREATE TABLE goose (x INTEGER);\n\n')|$(hex_text $'DROP TABLE goose;\n')|$(sha_text $'DROP TABLE goose;\n')
4|folder|4_folder/up.sql|$(hex_text $'CREATE TABLE folder (x INTEGER);\n')|$(hex_text $'DROP TABLE folder;\n')|$(sha m/4_folder/down.sql)
5.1|flyway|V5_1__flyway.sql|$(hex_text $'CREATE TABLE flyway (x INTEGER);\n')|$(hex_text $'DROP TABLE flyway;\n')|$(sha m/U5_1__flyway.sql)
6|up_only|6_up_only.sql|$(hex_text $'CREATE TABLE up_only (x INTEGER);\n')||"
}

# An in-memory database works the same, within the one connection.
test_memory_database() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.sql <<'EOF'
-- migrate:up
CREATE TABLE b (y INTEGER);
INSERT INTO b VALUES (42);
-- migrate:down
DROP TABLE b;
EOF
  put bad/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put bad/2_b.up.sql <<<'CREATE TABLE b (y INTEGER); INSERT INTO nope VALUES (1);'
  sqlite_run --no-bail :memory: <<'EOF'
SELECT migrate_apply('bad');
SELECT count(*) FROM sqlite_schema;
SELECT migrate_apply('m');
SELECT name FROM sqlite_schema ORDER BY 1;
SELECT * FROM b;
SELECT version, state FROM migrations_status('m');
SELECT migrate_apply('m');
EOF
  expect_rc 1
  expect_err "migration 2 (2_b.up.sql, line 1): no such table: nope"
  expect_out "0
2
a
b
migrate_history
migrate_schema_history
42
1|applied
2|applied
0"
}

# The realistic example folder applies (with foreign keys on), and the down scripts it recorded
# undo it completely.
test_examples_folder_applies_and_reverts() {
  local n f
  # one migration per version: a pair counts once
  n=$(for f in "$REPO_ROOT"/examples/[0-9]*.sql; do
        f=${f##*/}
        echo "${f%%_*}"
      done | sort -u | wc -l)
  sqlite_run db <<EOF
PRAGMA foreign_keys = ON;
SELECT migrate_apply('$REPO_ROOT/examples');
SELECT count(*) FROM migrations_status('$REPO_ROOT/examples') WHERE state = 'applied';
SELECT count(*) FROM migrate_history WHERE down_sql IS NOT NULL;
SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY 1;
SELECT count(*) FROM users;
SELECT code FROM plans ORDER BY id;
SELECT number, status FROM invoices ORDER BY id;
PRAGMA foreign_key_check;
PRAGMA foreign_keys;
.output down.sql
SELECT down_sql FROM migrate_history ORDER BY id DESC;
.output stdout
.read down.sql
SELECT name FROM sqlite_schema ORDER BY 1;
PRAGMA foreign_key_check;
EOF
  expect_ok "$n
$n
$n
invoices
migrate_history
migrate_schema_history
plans
projects
subscriptions
team_memberships
teams
users
3
free
pro
business
legacy
INV-2024-0001|paid
INV-2024-0002|open
1
migrate_history
migrate_schema_history"
}

# migrate_apply(dir, target, count): only the next count pending migrations, in order; a count
# that is not a whole number of at least 1 is refused.
test_apply_count() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/4_d.up.sql <<<'CREATE TABLE d (x INTEGER);'
  sqlite_q db "SELECT migrate_apply('m', NULL, 2);
SELECT group_concat(version || ':' || state, ' ') FROM migrations_status('m');
SELECT migrate_apply('m', '4', 1);
SELECT migrate_apply('m', NULL, NULL);
SELECT group_concat(version, ' ') FROM migrate_history;" "2
1:applied 2:applied 3:pending 4:pending
1
1
1 2 3 4"
  local bad
  for bad in 0 -1 "'two'" 1.5; do
    sqlite_run db <<<"SELECT migrate_apply('m', NULL, $bad);"
    expect_error "migrate_apply: count must be a whole number, 1 or more"
  done
}

# A script that changes on disk after the call has read it is refused when the call reads it
# again to run it (past the first 256 KiB of a folder, each script is held only while it is
# checked or run): the error names the file and nothing of the call is kept. The first
# migration, bigger than what is kept, rewrites the third one's file.
test_script_changed_during_the_call_is_refused() {
  mkdir -p m
  { printf -- '-- '; head -c 300000 /dev/zero | tr '\0' x; printf '\nSELECT 0;\n'; } >m/0_big.up.sql
  put m/1_a.up.sql <<'EOF2'
CREATE TABLE a (x INTEGER);
SELECT writefile('m/2_b.up.sql', 'CREATE TABLE changed (y INTEGER);');
EOF2
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "2_b.up.sql: the file changed while the call was running (its checksum is no longer the one it had when the call read it); nothing of this call was kept
HINT: run the call again once the file is as it should be"
  sqlite_q db "SELECT count(*) FROM sqlite_schema WHERE name IN ('a', 'b', 'changed', 'migrate_history');" "0"
  # a small folder is read once, and runs the scripts as they were read
  rm m/0_big.up.sql
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  sqlite_q db "SELECT migrate_apply('m');
SELECT name FROM sqlite_schema WHERE name IN ('a', 'b', 'changed') ORDER BY name;" "2
a
b"
}
