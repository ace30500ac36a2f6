# shellcheck shell=bash
# The lifecycle after an apply, on both engines: migrate_rollback, migrate_to, migrate_plan
# going down, migrate_validate, migrate_repair, migrate_baseline and the out_of_order / missing
# settings. What only one engine has stays with it: the SQLite settings functions in
# tests/sqlite/test_lifecycle.sh, the PostgreSQL settings' scopes and SQLSTATEs in
# tests/pg/sql/lifecycle.sql.
#
# A case writes its migrations with put, runs SQL with db_run / db_q, and checks with the
# expect_* assertions (tests/lib/assert.sh); the words of tests/cases/engine_*.sh and common.sh
# do the same thing on each engine. Folders are given as absolute paths: the PostgreSQL server
# does not share the case's working directory.

# Four migrations in four layouts, each with a down script that drops its table.
lc_four() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/1_a.down.sql <<<'DROP TABLE a;'
  put m/2_b.sql <<'EOF'
-- migrate:up
CREATE TABLE b (x INTEGER);
-- migrate:down
DROP TABLE b;
EOF
  put m/3_c/up.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/3_c/down.sql <<<'DROP TABLE c;'
  put m/V4__d.sql <<<'CREATE TABLE d (x INTEGER);'
  put m/U4__d.sql <<<'DROP TABLE d;'
}

# Rollback of one (the default), of several, and of more than there is: newest first, each with
# its own down script; reverted migrations are pending again and history keeps every row.
case_rollback_one_many_all() {
  lc_four
  db_q "SELECT migrate_apply('$PWD/m');" "4"
  db_run <<EOF
SELECT migrate_rollback('$PWD/m');
$TABLES
SELECT migrate_rollback('$PWD/m', 2);
$TABLES
SELECT version, state, CAST(applied_checksum IS NULL AS INTEGER) FROM migrations_status('$PWD/m');
SELECT version FROM migrations_status;
EOF
  expect_ok "1
a
b
c
2
a
1|applied|0
2|pending|1
3|pending|1
4|pending|1
1"
  # more steps than applied migrations would revert everything: refused, nothing changes
  db_snapshot
  db_run <<<"SELECT migrate_rollback('$PWD/m', 10);"
  expect_error "migrate_rollback of 10 steps would revert every applied migration (1 in force); nothing was reverted
HINT: to revert everything, say so: migrate_to(dir, '0')"
  expect_unchanged "the database after the refused rollback"
  # the one migration left goes with one step; then there is nothing to revert
  db_run <<EOF
SELECT migrate_rollback('$PWD/m');
SELECT migrate_rollback('$PWD/m');
SELECT migrate_rollback('$PWD/m', NULL);
SELECT migrate_rollback('$PWD/m', 0);
$COUNT_TABLES
SELECT version, state FROM migrations_status('$PWD/m');
SELECT count(*) FROM migrations_status;
EOF
  expect_ok "1
0
0
0
0
1|pending
2|pending
3|pending
4|pending
0"
  # history keeps the up and the down rows: the script that ran, the up checksum, the down
  # script and its checksum
  db_run <<'EOF'
SELECT id, version, name, direction, script, CAST(success AS INTEGER), applied_by
  FROM migrate_history ORDER BY id;
SELECT d.version FROM migrate_history d JOIN migrate_history u
    ON u.version = d.version AND u.direction = 'up' AND d.direction = 'down'
 WHERE d.checksum = u.checksum AND d.down_checksum = u.down_checksum AND d.down_sql = u.down_sql
 ORDER BY d.id;
SELECT DISTINCT down_sql FROM migrate_history WHERE version = '3';
SELECT version, down_checksum FROM migrate_history WHERE direction = 'down' ORDER BY id;
EOF
  expect_ok "1|1|a|up|1_a.up.sql|1|$ME
2|2|b|up|2_b.sql|1|$ME
3|3|c|up|3_c/up.sql|1|$ME
4|4|d|up|V4__d.sql|1|$ME
5|4|d|down|U4__d.sql|1|$ME
6|3|c|down|3_c/down.sql|1|$ME
7|2|b|down|2_b.sql|1|$ME
8|1|a|down|1_a.down.sql|1|$ME
4
3
2
1
DROP TABLE c;

4|$(sha m/U4__d.sql)
3|$(sha m/3_c/down.sql)
2|$(sha_text $'DROP TABLE b;\n')
1|$(sha m/1_a.down.sql)"
  # reverted migrations apply again; reverting all of them takes migrate_to '0'
  db_q "SELECT migrate_apply('$PWD/m'); SELECT migrate_to('$PWD/m', '0'); $COUNT_TABLES
SELECT count(*) FROM migrate_history;" "4
4
0
16"
}

# The down file (or the down section) is gone: the down script history kept is used, and the
# 'down' row records it.
case_rollback_with_down_file_gone_uses_history() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/1_a.down.sql <<<'DROP TABLE a;'
  put m/2_b.sql <<'EOF'
-- migrate:up
CREATE TABLE b (x INTEGER);
-- migrate:down
DROP TABLE b;
CREATE TABLE b_reverted (x INTEGER);
EOF
  put m/3_c/up.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/3_c/down.sql <<<'DROP TABLE c;'
  db_q "SELECT migrate_apply('$PWD/m');" "3"
  rm m/1_a.down.sql m/3_c/down.sql
  # the up section is unchanged, so migration 2 is not modified
  put m/2_b.sql <<'EOF'
-- migrate:up
CREATE TABLE b (x INTEGER);
EOF
  db_q "SELECT version, state FROM migrations_status('$PWD/m');" "1|applied
2|applied
3|applied"
  db_run <<EOF
SELECT migrate_to('$PWD/m', '0');
$TABLES
SELECT version, direction, script, down_sql, down_checksum FROM migrate_history
 WHERE direction = 'down' ORDER BY id;
SELECT version, state FROM migrations_status('$PWD/m');
EOF
  expect_ok "3
b_reverted
3|down|3_c/up.sql|DROP TABLE c;
|$(sha_text $'DROP TABLE c;\n')
2|down|2_b.sql|DROP TABLE b;
CREATE TABLE b_reverted (x INTEGER);
|$(sha_text $'DROP TABLE b;\nCREATE TABLE b_reverted (x INTEGER);\n')
1|down|1_a.up.sql|DROP TABLE a;
|$(sha_text $'DROP TABLE a;\n')
1|pending
2|pending
3|pending"
}

# A migration without a down script stops the whole revert before anything runs: schema and
# history stay exactly as they were, for rollback, migrate_to and the plan alike.
case_rollback_refused_without_down_script() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/1_a.down.sql <<<'DROP TABLE a;'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/3_c.down.sql <<<'DROP TABLE c;'
  db_q "SELECT migrate_apply('$PWD/m');" "3"
  db_snapshot
  local refused="2_b.up.sql: migration 2 has no down script, so it cannot be reverted; nothing was reverted"
  db_run <<<"SELECT migrate_rollback('$PWD/m', 2);"
  expect_error "$refused" ""
  db_run <<<"SELECT migrate_rollback('$PWD/m', 3);"
  expect_error "migrate_rollback of 3 steps would revert every applied migration (3 in force); nothing was reverted
HINT: to revert everything, say so: migrate_to(dir, '0')" ""
  db_run <<<"SELECT migrate_to('$PWD/m', '1');"
  expect_error "$refused" ""
  db_run <<<"SELECT migrate_to('$PWD/m', '0');"
  expect_error "$refused" ""
  db_run <<<"SELECT * FROM migrate_plan('$PWD/m', '1');"
  expect_error "$refused" ""
  expect_unchanged "schema and history after the refused calls"
  # what has a down script can still be reverted
  db_q "SELECT migrate_rollback('$PWD/m'); $TABLES" "1
a
b"
  # a down file added later is used
  put m/2_b.down.sql <<<'DROP TABLE b;'
  db_q "SELECT migrate_to('$PWD/m', '0'); $COUNT_TABLES" "2
0"
}

# An empty or comments-only down script counts as no down script, unless the up script is blank
# too: then reverting is a no-op that is still recorded.
case_blank_down_script() {
  put comments/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put comments/1_a.down.sql <<'EOF'
-- nothing to undo
/* really nothing */
EOF
  put empty/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  : | put empty/1_a.down.sql
  put section/1_a.sql <<'EOF'
-- migrate:up
CREATE TABLE a (x INTEGER);
-- migrate:down
-- keep the table
EOF
  local dir file
  for dir in comments:1_a.up.sql empty:1_a.up.sql section:1_a.sql; do
    file=${dir#*:}
    dir=${dir%%:*}
    db_q "SELECT migrate_apply('$PWD/$dir');" "1"
    db_snapshot
    db_run <<<"SELECT migrate_rollback('$PWD/$dir');"
    expect_error "$file: migration 1 has no down script, so it cannot be reverted; nothing was reverted" ""
    expect_unchanged "$dir: schema and history after the refused rollback"
    db_q "DROP TABLE a; DELETE FROM migrate_history;" ""
  done

  # blank up scripts: comments only with a comments-only down, empty with no down at all,
  # empty sections
  put noop/1_placeholder.up.sql <<<'-- placeholder'
  put noop/1_placeholder.down.sql <<<'-- nothing either'
  : | put noop/2_empty.up.sql
  put noop/3_sections.sql <<'EOF'
-- migrate:up
-- migrate:down
EOF
  put noop/4_t.up.sql <<<'CREATE TABLE t (x INTEGER);'
  put noop/4_t.down.sql <<<'DROP TABLE t;'
  db_q "SELECT migrate_apply('$PWD/noop');" "4"
  db_run <<EOF
SELECT migrate_to('$PWD/noop', '0');
$TABLES
SELECT version, state FROM migrations_status('$PWD/noop');
SELECT version, direction, script FROM migrate_history WHERE direction = 'down' ORDER BY id;
EOF
  expect_ok "4
1|pending
2|pending
3|pending
4|pending
4|down|4_t.down.sql
3|down|3_sections.sql
2|down|2_empty.up.sql
1|down|1_placeholder.down.sql"
}

# migrate_to up and down across semantic versions: 2.9.0 < 2.10.0 < 2.15.0 < 3.0.0 as numbers,
# not as text; migrate_to(dir, '0') reverts everything. The plan shows each step first.
case_migrate_to_semver_up_and_down() {
  put m/2.1.0_users.up.sql <<<'CREATE TABLE users (x INTEGER);'
  put m/2.1.0_users.down.sql <<<'DROP TABLE users;'
  put m/2.9.0_teams.up.sql <<<'CREATE TABLE teams (x INTEGER);'
  put m/2.9.0_teams.down.sql <<<'DROP TABLE teams;'
  put m/2.10.0_tags/up.sql <<<'CREATE TABLE tags (x INTEGER);'
  put m/2.10.0_tags/down.sql <<<'DROP TABLE tags;'
  put m/v2.15.0-series-column-unique.sql <<'EOF'
-- migrate:up
CREATE TABLE series (x INTEGER);
-- migrate:down
DROP TABLE series;
EOF
  put m/3.0.0_final.up.sql <<<'CREATE TABLE final (x INTEGER);'
  put m/3.0.0_final.down.sql <<<'DROP TABLE final;'
  db_run <<EOF
SELECT * FROM migrate_plan('$PWD/m', '2.9.0');
SELECT migrate_to('$PWD/m', '2.9.0');
$TABLES
SELECT migrate_to('$PWD/m', '2.9.0');
SELECT * FROM migrate_plan('$PWD/m', '2.15.0');
SELECT migrate_to('$PWD/m', '2.15.0');
$TABLES
SELECT version, name, state FROM migrations_status('$PWD/m');
EOF
  expect_ok "1|up|2.1.0|users|2.1.0_users.up.sql
2|up|2.9.0|teams|2.9.0_teams.up.sql
2
teams
users
0
1|up|2.10.0|tags|2.10.0_tags/up.sql
2|up|2.15.0|series-column-unique|v2.15.0-series-column-unique.sql
2
series
tags
teams
users
2.1.0|users|applied
2.9.0|teams|applied
2.10.0|tags|applied
2.15.0|series-column-unique|applied
3.0.0|final|pending"
  db_run <<EOF
SELECT * FROM migrate_plan('$PWD/m', '2.9.0');
SELECT migrate_to('$PWD/m', '2.9.0');
$TABLES
SELECT version, state FROM migrations_status('$PWD/m');
SELECT migrate_to('$PWD/m', '2.10.0');
$TABLES
EOF
  expect_ok "1|down|2.15.0|series-column-unique|v2.15.0-series-column-unique.sql
2|down|2.10.0|tags|2.10.0_tags/down.sql
2
teams
users
2.1.0|applied
2.9.0|applied
2.10.0|pending
2.15.0|pending
3.0.0|pending
1
tags
teams
users"
  # a version that no migration has is refused, naming its neighbours; nothing changes
  db_snapshot
  db_run <<<"SELECT migrate_to('$PWD/m', '2.12');"
  expect_error "target 2.12 is not the version of any migration, in the source or in history; nothing was changed
The nearest versions are 2.10.0 (below) and 2.15.0 (above).
HINT: give the version of an existing migration; '0' means before every migration" ""
  expect_unchanged "schema and history after the refused target"
  db_run <<EOF
SELECT migrate_to('$PWD/m', '3');
SELECT migrate_to('$PWD/m', '0');
$COUNT_TABLES
SELECT count(*) FROM migrations_status('$PWD/m') WHERE state = 'pending';
SELECT version || ':' || direction FROM migrate_history ORDER BY id;
EOF
  expect_ok "2
5
0
5
2.1.0:up
2.9.0:up
2.10.0:up
2.15.0:up
2.15.0:down
2.10.0:down
2.10.0:up
2.15.0:up
3.0.0:up
3.0.0:down
2.15.0:down
2.10.0:down
2.9.0:down
2.1.0:down"
  db_q "SELECT migrate_to('$PWD/m', '0');" "0"
}

# migrate_plan with a target older than what is applied shows the down steps migrate_to would
# run, newest first, with the scripts that would run; it runs nothing.
case_plan_down_steps_newest_first() {
  lc_four
  db_q "SELECT migrate_apply('$PWD/m');" "4"
  db_snapshot
  db_run <<EOF
SELECT * FROM migrate_plan('$PWD/m', '1');
SELECT '--';
SELECT * FROM migrate_plan('$PWD/m', '0');
SELECT '--';
SELECT * FROM migrate_plan('$PWD/m', '4');
SELECT * FROM migrate_plan('$PWD/m');
SELECT '--';
SELECT version FROM migrate_plan('$PWD/m', '2') ORDER BY step;
EOF
  expect_ok "1|down|4|d|U4__d.sql
2|down|3|c|3_c/down.sql
3|down|2|b|2_b.sql
--
1|down|4|d|U4__d.sql
2|down|3|c|3_c/down.sql
3|down|2|b|2_b.sql
4|down|1|a|1_a.down.sql
--
--
4
3"
  expect_unchanged "schema and history after planning"
  # exactly what the plan said runs
  db_q "SELECT migrate_to('$PWD/m', '2');
SELECT version FROM migrate_history WHERE direction = 'down' ORDER BY id;
SELECT * FROM migrate_plan('$PWD/m', '3');
SELECT migrate_to('$PWD/m', '0');" "2
4
3
1|up|3|c|3_c/up.sql
2"
}

# migrate_validate: 'ok', or one error listing every problem at once: duplicate versions,
# modified, missing, out of order and failed. It changes nothing.
case_validate_lists_every_problem() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/5_e.up.sql <<<'CREATE TABLE e (x INTEGER);'
  db_q "SELECT migrate_validate('$PWD/m');" "ok"
  db_q "SELECT migrate_apply('$PWD/m'); SELECT migrate_validate('$PWD/m');" "4
ok"
  local old new
  old=$(sha m/2_b.up.sql)
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER, y TEXT);'
  new=$(sha m/2_b.up.sql)
  rm m/3_c.up.sql
  put m/4_d.up.sql <<<'CREATE TABLE d (x INTEGER);'
  put m/6_f.up.sql <<<'CREATE TABLE f (x INTEGER);'
  put m/6_g.sql <<<'CREATE TABLE g (x INTEGER);'
  put m/7_h.up.sql <<<'CREATE TABLE h (x INTEGER);'
  # a run of 7 that failed, as history records one
  db_q "INSERT INTO migrate_history (version, name, direction, checksum, script, applied_at, applied_by, success)
VALUES ('7', 'h', 'up', '$(sha m/7_h.up.sql)', '7_h.up.sql', '2024-01-01T00:00:00.000Z', 'ci', false);" ""
  db_snapshot
  db_run <<<"SELECT migrate_validate('$PWD/m');"
  expect_error "5 problems with the migrations; nothing was changed
duplicate version 6: 6_f.up.sql and 6_g.sql
2_b.up.sql: migration 2 was modified after it was applied (applied checksum $old, file checksum $new)
3_c.up.sql: migration 3 was applied but its file is missing from the folder
4_d.up.sql: migration 4 is out of order: it is pending but older than the newest applied migration 5
7_h.up.sql: migration 7 failed when it last ran and its script has not changed since
HINT: restore the applied script as it was, or accept the change with migrate_repair; change an applied migration by adding a new one" ""
  expect_unchanged "schema and history after validating"
  # migrations_status, like apply, refuses a folder with a duplicate version outright
  db_run <<<"SELECT version, state FROM migrations_status('$PWD/m');"
  expect_error "duplicate version 6: 6_f.up.sql and 6_g.sql" ""
}

# migrate_repair accepts the new checksum of modified migrations, forgets missing ones and clears
# failed ones with 'repair' rows, runs no migration SQL, and lets the next apply succeed.
case_repair_then_apply() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/4_d.up.sql <<<'CREATE TABLE d (x INTEGER);'
  db_q "SELECT migrate_apply('$PWD/m', '3');" "3"
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER); CREATE TABLE a2 (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER); CREATE TABLE b2 (x INTEGER);'
  rm m/3_c.up.sql
  put m/5_e.up.sql <<<'CREATE TABLE e (x INTEGER);'
  # a failed run of 4 as history records one, here without a checksum
  db_q "INSERT INTO migrate_history (version, name, direction, checksum, script, applied_at, applied_by, success)
VALUES ('4', 'd', 'up', NULL, '4_d.up.sql', '2024-01-01T00:00:00.000Z', 'ci', false);
SELECT version, state FROM migrations_status('$PWD/m');" "1|modified
2|modified
3|missing
4|failed
5|pending"
  db_run <<<"SELECT migrate_apply('$PWD/m');"
  expect_rc 1
  expect_match "apply refused before the repair" "^4 problems with the migrations" "$ERR"
  db_q "SELECT migrate_repair('$PWD/m');" "accepted the new checksum of 2 modified migrations (1, 2); forgot 1 missing migration (3); cleared 1 failed migration (4)"
  db_run <<EOF
SELECT id, version, name, direction, checksum, script, applied_by, CAST(success AS INTEGER),
       execution_ms, $FRESH_APPLIED_AT
  FROM migrate_history WHERE direction = 'repair' ORDER BY id;
$TABLES
SELECT version, state, applied_checksum FROM migrations_status('$PWD/m');
SELECT migrate_repair('$PWD/m');
SELECT migrate_validate('$PWD/m');
EOF
  expect_ok "5|1|a|repair|$(sha m/1_a.up.sql)|1_a.up.sql|$ME|1|0|1
6|2|b|repair|$(sha m/2_b.up.sql)|2_b.up.sql|$ME|1|0|1
7|3|c|repair||3_c.up.sql|$ME|1|0|1
8|4|d|repair||4_d.up.sql|$ME|1|0|1
a
b
c
1|applied|$(sha m/1_a.up.sql)
2|applied|$(sha m/2_b.up.sql)
4|pending|
5|pending|
nothing to repair
ok"
  # the apply now succeeds and runs only what is pending
  db_q "SELECT migrate_apply('$PWD/m'); $TABLES SELECT version, state FROM migrations_status('$PWD/m');" "2
a
b
c
d
e
1|applied
2|applied
4|applied
5|applied"
}

# migrate_baseline marks a database built before migrate: migrations up to the baseline count
# as applied without running; the next apply runs only the newer ones.
case_baseline_then_apply() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/4_d.up.sql <<<'CREATE TABLE d (x INTEGER);'
  db_q 'CREATE TABLE a (x INTEGER); CREATE TABLE b (x INTEGER);' ""
  db_run <<EOF
SELECT migrate_baseline('2', 'legacy schema');
SELECT version, state, CAST(applied_checksum IS NULL AS INTEGER), execution_ms
  FROM migrations_status('$PWD/m');
SELECT * FROM migrate_plan('$PWD/m');
SELECT migrate_apply('$PWD/m');
$TABLES
SELECT version, state FROM migrations_status('$PWD/m');
SELECT id, version, name, direction, CAST(checksum IS NULL AS INTEGER),
       CAST(script IS NULL AS INTEGER), applied_by, CAST(success AS INTEGER)
  FROM migrate_history ORDER BY id;
EOF
  expect_ok "2
1|applied|1|0
2|applied|1|0
3|pending|1|
4|pending|1|
1|up|3|c|3_c.up.sql
2|up|4|d|4_d.up.sql
2
a
b
c
d
1|applied
2|applied
3|applied
4|applied
1|2|legacy schema|baseline|1|1|$ME|1
2|3|c|up|0|0|$ME|1
3|4|d|up|0|0|$ME|1"

  # a baseline between two versions, with the default name, on a database as it was before
  db_q 'DROP TABLE c; DROP TABLE d; DELETE FROM migrate_history;' ""
  db_q "SELECT migrate_baseline('2.5'); SELECT migrate_apply('$PWD/m'); $TABLES
SELECT version, name, direction FROM migrate_history ORDER BY id;" "2.5
2
a
b
c
d
2.5|baseline|baseline
3|c|up
4|d|up"
}

# A baseline is refused once history has applied migrations, and for what is not a version;
# nothing is recorded.
case_baseline_refused_when_history_has_applied() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  db_q "SELECT migrate_apply('$PWD/m');" "2"
  db_snapshot
  db_run --no-bail <<'EOF'
SELECT migrate_baseline('5');
SELECT migrate_baseline('1', 'legacy');
SELECT migrate_baseline('latest');
SELECT migrate_baseline(NULL);
EOF
  expect_error "refusing to baseline at 5: migrate_history already records 2 applied migrations; a baseline only describes a database built before migrate
refusing to baseline at 1: migrate_history already records 2 applied migrations; a baseline only describes a database built before migrate
baseline version \"latest\" is not a version (expected digits joined by '.', '_' or '-', such as 20240101 or 2.15.0)
migrate_baseline needs a version" ""
  expect_unchanged "schema and history after the refused baselines"
}

# out_of_order = error (the default) refuses an older pending migration; allow applies it, in
# version order with the newer pending ones.
case_out_of_order_setting() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  db_q "SELECT migrate_apply('$PWD/m');" "2"
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put m/4_d.up.sql <<<'CREATE TABLE d (x INTEGER);'
  db_snapshot
  local refused="2_b.up.sql: migration 2 is out of order: it is pending but older than the newest applied migration 3
HINT: give the migration a version newer than the newest applied one, or allow it with the out_of_order setting"
  db_run <<<"$(show_setting out_of_order) SELECT migrate_apply('$PWD/m');"
  expect_error "$refused" "error"
  db_run <<<"$(set_setting out_of_order error) SELECT migrate_apply('$PWD/m');"
  expect_error "$refused" "error"
  db_run <<<"SELECT * FROM migrate_plan('$PWD/m');"
  expect_error "$refused" ""
  expect_unchanged "schema and history after the refused apply"
  db_run <<EOF
$(set_setting out_of_order allow)
SELECT * FROM migrate_plan('$PWD/m');
SELECT migrate_validate('$PWD/m');
SELECT migrate_apply('$PWD/m');
$TABLES
SELECT version, state FROM migrations_status('$PWD/m');
SELECT version FROM migrate_history ORDER BY id;
EOF
  expect_ok "allow
1|up|2|b|2_b.up.sql
2|up|4|d|4_d.up.sql
ok
2
a
b
c
d
1|applied
2|applied
3|applied
4|applied
1
3
2
4"
  # back to error: the next stray migration is refused again
  put m/2.5_late.up.sql <<<'CREATE TABLE late (x INTEGER);'
  db_run <<<"$(set_setting out_of_order allow) $(set_setting out_of_order error) SELECT migrate_apply('$PWD/m');"
  expect_error "2.5_late.up.sql: migration 2.5 is out of order: it is pending but older than the newest applied migration 4
HINT: give the migration a version newer than the newest applied one, or allow it with the out_of_order setting" "allow
error"
}

# missing = error (the default) refuses when an applied migration's file is gone; ignore lets
# apply go on (the migration still shows as missing).
case_missing_setting() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/1_a.down.sql <<<'DROP TABLE a;'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put m/2_b.down.sql <<<'DROP TABLE b;'
  db_q "SELECT migrate_apply('$PWD/m');" "2"
  rm m/1_a.up.sql m/1_a.down.sql
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/3_c.down.sql <<<'DROP TABLE c;'
  db_snapshot
  local refused="1_a.up.sql: migration 1 was applied but its file is missing from the folder
HINT: restore the missing file, or forget it with migrate_repair"
  db_run <<<"$(show_setting missing) SELECT migrate_apply('$PWD/m');"
  expect_error "$refused" "error"
  db_run <<<"SELECT migrate_validate('$PWD/m');"
  expect_error "$refused" ""
  expect_unchanged "schema and history after the refused apply"
  db_run <<EOF
$(set_setting missing ignore)
SELECT migrate_validate('$PWD/m');
SELECT * FROM migrate_plan('$PWD/m');
SELECT migrate_apply('$PWD/m');
$TABLES
SELECT version, state FROM migrations_status('$PWD/m');
EOF
  expect_ok "ignore
ok
1|up|3|c|3_c.up.sql
1
a
b
c
1|missing
2|applied
3|applied"
  # reverting the missing migration runs the down script history kept
  db_q "$(set_setting missing ignore) SELECT migrate_to('$PWD/m', '0'); $COUNT_TABLES
SELECT version, state FROM migrations_status('$PWD/m');" "ignore
3
0
2|pending
3|pending"
}

# A down script that fails undoes the whole call: the reverts that ran before it in the same
# call are undone too; the error names the migration, the file and the line (each engine in its
# own words).
case_down_failure_rolls_back_whole_call() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/1_a.down.sql <<<'DROP TABLE a;'
  put m/2_b.sql <<'EOF'
-- migrate:up
CREATE TABLE b (x INTEGER);
-- migrate:down
DELETE FROM b;

DROP TABLE nope;
DROP TABLE b;
EOF
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/3_c.down.sql <<<'DROP TABLE c;'
  db_q "SELECT migrate_apply('$PWD/m'); INSERT INTO b VALUES (1);" "3"
  db_snapshot
  local failed="migration 2 (2_b.sql, line 6): no such table: nope"
  on pg && failed='table "nope" does not exist
CONTEXT:  migration 2 (2_b.sql, line 6)'
  db_run <<<"SELECT migrate_rollback('$PWD/m', 2);"
  expect_error "$failed" ""
  db_run <<<"SELECT migrate_to('$PWD/m', '0');"
  expect_error "$failed" ""
  db_run <<<"SELECT migrate_to('$PWD/m', '1');"
  expect_error "$failed" ""
  expect_unchanged "schema, data and history after the failed reverts"
  db_q "SELECT version, state FROM migrations_status('$PWD/m');" "1|applied
2|applied
3|applied"
  # the same with the copy history kept (the down section is gone from the file): the error
  # says so, and gives the line in that copy
  put m/2_b.sql <<'EOF'
-- migrate:up
CREATE TABLE b (x INTEGER);
EOF
  db_run <<<"SELECT migrate_rollback('$PWD/m', 2);"
  if on pg; then
    expect_error 'table "nope" does not exist
CONTEXT:  migration 2 (the down script kept in migrate_history for 2_b.sql, line 3)' ""
  else
    expect_error "migration 2 (the down script kept in migrate_history for 2_b.sql, line 3): no such table: nope" ""
  fi
  expect_unchanged "schema, data and history after the failed revert"
  # one step that does not reach the failing script goes through
  db_q "SELECT migrate_rollback('$PWD/m'); $TABLES" "1
a
b"
}

# Bad arguments to migrate_rollback and migrate_to are refused and change nothing.
case_rollback_and_to_argument_errors() {
  lc_four
  db_q "SELECT migrate_apply('$PWD/m');" "4"
  db_snapshot
  db_run --no-bail <<EOF
SELECT migrate_rollback('$PWD/m', -1);
SELECT migrate_rollback('/no/such/folder');
SELECT migrate_to('$PWD/m', NULL);
SELECT migrate_to('$PWD/m', 'latest');
SELECT migrate_to('$PWD/m', '');
EOF
  expect_rc 1
  expect_err "migrate_rollback: steps must be a whole number, 0 or more
migrations folder \"/no/such/folder\" does not exist
migrate_to needs a target version
target \"latest\" is not a version (expected digits joined by '.', '_' or '-', such as 20240101 or 2.15.0)
target \"\" is not a version (expected digits joined by '.', '_' or '-', such as 20240101 or 2.15.0)"
  expect_unchanged "schema and history after the bad calls"
}

# After migrate_repair accepted a changed migration (its 'repair' row keeps the scripts as they
# are now), a revert with the down file gone runs the down script accepted by the repair, as it
# would have run the file's down script had the file still been there; not the one recorded by
# the original apply.
case_rollback_after_repair_uses_accepted_down_script() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/1_a.down.sql <<<'DROP TABLE a_typo;'
  db_q "SELECT migrate_apply('$PWD/m');" "1"
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER); -- reviewed'
  put m/1_a.down.sql <<<'DROP TABLE a;'
  db_q "SELECT version, state FROM migrations_status('$PWD/m'); SELECT migrate_repair('$PWD/m');
SELECT direction, down_sql FROM migrate_history ORDER BY id;" "1|modified
accepted the new checksum of 1 modified migration (1)
up|DROP TABLE a_typo;

repair|DROP TABLE a;"
  rm m/1_a.down.sql
  db_run <<EOF
SELECT migrate_rollback('$PWD/m');
$TABLES
SELECT version, direction, down_sql FROM migrate_history WHERE direction = 'down';
SELECT version, state FROM migrations_status('$PWD/m');
EOF
  expect_ok "1
1|down|DROP TABLE a;

1|pending"
}

# A folder that holds none of the applied migrations (another project's folder) would make a
# repair forget them all: refused, history unchanged; a repair that forgets some still works.
case_repair_refuses_to_forget_everything() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put other/7_x.up.sql <<<'CREATE TABLE x (x INTEGER);'
  db_q "SELECT migrate_apply('$PWD/m');" "2"
  db_snapshot
  db_run <<<"SELECT migrate_repair('$PWD/other');"
  expect_error "migrate_repair would forget every applied migration (2): the source holds none of them; nothing was changed
HINT: check that this is the migrations folder of this database (a NULL folder means the migrate_scripts table)"
  expect_unchanged "schema and history after the refused repair"
  rm m/1_a.up.sql
  db_q "SELECT migrate_repair('$PWD/m');" "forgot 1 missing migration (1)"
}
