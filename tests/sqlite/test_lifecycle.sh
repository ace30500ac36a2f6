# shellcheck shell=bash
# The lifecycle after an apply: migrate_rollback, migrate_to, migrate_plan going down,
# migrate_validate, migrate_repair, migrate_baseline and the out_of_order / missing settings.

# The tables the migrations made (not migrate's own), one per line.
TABLES="SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT IN ('migrate_history', 'migrate_schema_history') ORDER BY name;"
# How many there are.
COUNT_TABLES="SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT IN ('migrate_history', 'migrate_schema_history');"

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

# dump DB: schema, data and history as text, to show that a refused call changed nothing.
dump() {
  sq "$1" <<<'.dump'
  expect_rc 0
  DUMP=$OUT
}

# Rollback of one (the default), of several, and of more than there is: newest first, each with
# its own down script; reverted migrations are pending again and history keeps every row.
test_rollback_one_many_all() {
  lc_four
  q db "SELECT migrate_apply('m');" "4"
  sq db <<EOF
SELECT migrate_rollback('m');
$TABLES
SELECT migrate_rollback('m', 2);
$TABLES
SELECT version, state, applied_checksum IS NULL FROM migrations_status('m');
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
  dump db
  local before=$DUMP
  sq db <<<"SELECT migrate_rollback('m', 10);"
  expect_error "migrate_rollback of 10 steps would revert every applied migration (1 in force); nothing was reverted
HINT: to revert everything, say so: migrate_to(dir, '0')"
  dump db
  expect_eq "dump after the refused rollback" "$before" "$DUMP"
  # the one migration left goes with one step; then there is nothing to revert
  sq db <<EOF
SELECT migrate_rollback('m');
SELECT migrate_rollback('m');
SELECT migrate_rollback('m', NULL);
SELECT migrate_rollback('m', 0);
$COUNT_TABLES
SELECT version, state FROM migrations_status('m');
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
  sq db <<'EOF'
SELECT id, version, name, direction, script, success, applied_by FROM migrate_history ORDER BY id;
SELECT d.version FROM migrate_history d JOIN migrate_history u
    ON u.version = d.version AND u.direction = 'up' AND d.direction = 'down'
 WHERE d.checksum = u.checksum AND d.down_checksum = u.down_checksum AND d.down_sql = u.down_sql
 ORDER BY d.id;
SELECT DISTINCT down_sql FROM migrate_history WHERE version = '3';
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
DROP TABLE c;"
  q db "SELECT DISTINCT down_checksum FROM migrate_history WHERE version = '3';" "$(sha m/3_c/down.sql)"
  # reverted migrations apply again; reverting all of them takes migrate_to '0'
  q db "SELECT migrate_apply('m'); SELECT migrate_to('m', '0'); $COUNT_TABLES
SELECT count(*) FROM migrate_history;" "4
4
0
16"
}

# The down file (or the down section) is gone: the down script history kept is used, and the
# 'down' row records it.
test_rollback_with_down_file_gone_uses_history() {
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
  q db "SELECT migrate_apply('m');" "3"
  rm m/1_a.down.sql m/3_c/down.sql
  # the up section is unchanged, so migration 2 is not modified
  put m/2_b.sql <<'EOF'
-- migrate:up
CREATE TABLE b (x INTEGER);
EOF
  q db "SELECT version, state FROM migrations_status('m');" "1|applied
2|applied
3|applied"
  sq db <<EOF
SELECT migrate_to('m', '0');
$TABLES
SELECT version, direction, script, down_sql, down_checksum FROM migrate_history
 WHERE direction = 'down' ORDER BY id;
SELECT version, state FROM migrations_status('m');
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
test_rollback_refused_without_down_script() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/1_a.down.sql <<<'DROP TABLE a;'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/3_c.down.sql <<<'DROP TABLE c;'
  q db "SELECT migrate_apply('m');" "3"
  dump db
  local before=$DUMP
  local refused="2_b.up.sql: migration 2 has no down script, so it cannot be reverted; nothing was reverted"
  sq db <<<"SELECT migrate_rollback('m', 2);"
  expect_error "$refused" ""
  sq db <<<"SELECT migrate_rollback('m', 3);"
  expect_error "migrate_rollback of 3 steps would revert every applied migration (3 in force); nothing was reverted
HINT: to revert everything, say so: migrate_to(dir, '0')" ""
  sq db <<<"SELECT migrate_to('m', '1');"
  expect_error "$refused" ""
  sq db <<<"SELECT migrate_to('m', '0');"
  expect_error "$refused" ""
  sq db <<<"SELECT * FROM migrate_plan('m', '1');"
  expect_error "$refused" ""
  dump db
  expect_eq "schema and history after the refused calls" "$before" "$DUMP"
  # what has a down script can still be reverted
  q db "SELECT migrate_rollback('m'); $TABLES" "1
a
b"
  # a down file added later is used
  put m/2_b.down.sql <<<'DROP TABLE b;'
  q db "SELECT migrate_to('m', '0'); $COUNT_TABLES" "2
0"
}

# An empty or comments-only down script counts as no down script, unless the up script is blank
# too: then reverting is a no-op that is still recorded.
test_blank_down_script() {
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
    q "$dir.db" "SELECT migrate_apply('$dir');" "1"
    dump "$dir.db"
    local before=$DUMP
    sq "$dir.db" <<<"SELECT migrate_rollback('$dir');"
    expect_error "$file: migration 1 has no down script, so it cannot be reverted; nothing was reverted" ""
    dump "$dir.db"
    expect_eq "$dir: schema and history after the refused rollback" "$before" "$DUMP"
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
  q db "SELECT migrate_apply('noop');" "4"
  sq db <<EOF
SELECT migrate_to('noop', '0');
$TABLES
SELECT version, state FROM migrations_status('noop');
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
# not as text; migrate_to(dir, '0') reverts everything.
test_migrate_to_semver_up_and_down() {
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
  sq db <<EOF
SELECT migrate_to('m', '2.9.0');
$TABLES
SELECT migrate_to('m', '2.9.0');
SELECT migrate_to('m', '2.15.0');
$TABLES
SELECT version, name, state FROM migrations_status('m');
EOF
  expect_ok "2
teams
users
0
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
  sq db <<EOF
SELECT migrate_to('m', '2.9.0');
$TABLES
SELECT version, state FROM migrations_status('m');
SELECT migrate_to('m', '2.10.0');
$TABLES
EOF
  expect_ok "2
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
  dump db
  local before=$DUMP
  sq db <<<"SELECT migrate_to('m', '2.12');"
  expect_error "target 2.12 is not the version of any migration, in the source or in history; nothing was changed
The nearest versions are 2.10.0 (below) and 2.15.0 (above).
HINT: give the version of an existing migration; '0' means before every migration" ""
  dump db
  expect_eq "schema and history after the refused target" "$before" "$DUMP"
  sq db <<EOF
SELECT migrate_to('m', '3');
SELECT migrate_to('m', '0');
$COUNT_TABLES
SELECT count(*) FROM migrations_status('m') WHERE state = 'pending';
SELECT group_concat(version || ':' || direction, ' ') FROM (SELECT * FROM migrate_history ORDER BY id);
EOF
  expect_ok "2
5
0
5
2.1.0:up 2.9.0:up 2.10.0:up 2.15.0:up 2.15.0:down 2.10.0:down 2.10.0:up 2.15.0:up 3.0.0:up 3.0.0:down 2.15.0:down 2.10.0:down 2.9.0:down 2.1.0:down"
  q db "SELECT migrate_to('m', '0');" "0"
}

# migrate_plan with a target older than what is applied shows the down steps migrate_to would
# run, newest first, with the scripts that would run; it runs nothing.
test_plan_down_steps_newest_first() {
  lc_four
  q db "SELECT migrate_apply('m');" "4"
  dump db
  local before=$DUMP
  sq db <<'EOF'
SELECT * FROM migrate_plan('m', '1');
SELECT '--';
SELECT * FROM migrate_plan('m', '0');
SELECT '--';
SELECT * FROM migrate_plan('m', '4');
SELECT * FROM migrate_plan('m');
SELECT '--';
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
--"
  dump db
  expect_eq "schema and history after planning" "$before" "$DUMP"
  # exactly what the plan said runs
  q db "SELECT migrate_to('m', '2');
SELECT group_concat(version, ',') FROM (SELECT version FROM migrate_history WHERE direction = 'down' ORDER BY id);
SELECT * FROM migrate_plan('m', '3');" "2
4,3
1|up|3|c|3_c/up.sql"
}

# migrate_validate: 'ok', or one error listing every problem at once: duplicate versions,
# modified, missing, out of order and failed. It changes nothing.
test_validate_lists_every_problem() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/5_e.up.sql <<<'CREATE TABLE e (x INTEGER);'
  q db "SELECT migrate_validate('m');" "ok"
  q db "SELECT migrate_apply('m'); SELECT migrate_validate('m');" "4
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
  sq db <<EOF
INSERT INTO migrate_history (version, name, direction, checksum, script, applied_at, applied_by, success)
VALUES ('7', 'h', 'up', '$(sha m/7_h.up.sql)', '7_h.up.sql', '2024-01-01T00:00:00.000Z', 'ci', 0);
EOF
  expect_ok ""
  dump db
  local before=$DUMP
  sq db <<<"SELECT migrate_validate('m');"
  expect_error "5 problems with the migrations; nothing was changed
duplicate version 6: 6_f.up.sql and 6_g.sql
2_b.up.sql: migration 2 was modified after it was applied (applied checksum $old, file checksum $new)
3_c.up.sql: migration 3 was applied but its file is missing from the folder
4_d.up.sql: migration 4 is out of order: it is pending but older than the newest applied migration 5
7_h.up.sql: migration 7 failed when it last ran and its script has not changed since
HINT: restore the applied script as it was, or accept the change with migrate_repair; change an applied migration by adding a new one" ""
  dump db
  expect_eq "schema and history after validating" "$before" "$DUMP"
}

# migrate_repair accepts the new checksum of modified migrations, forgets missing ones and clears
# failed ones with 'repair' rows, runs no migration SQL, and lets the next apply succeed.
test_repair_then_apply() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/4_d.up.sql <<<'CREATE TABLE d (x INTEGER);'
  q db "SELECT migrate_apply('m', '3');" "3"
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER); CREATE TABLE a2 (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER); CREATE TABLE b2 (x INTEGER);'
  rm m/3_c.up.sql
  put m/5_e.up.sql <<<'CREATE TABLE e (x INTEGER);'
  sq db <<EOF
INSERT INTO migrate_history (version, name, direction, checksum, script, applied_at, applied_by, success)
VALUES ('4', 'd', 'up', '$(sha m/4_d.up.sql)', '4_d.up.sql', '2024-01-01T00:00:00.000Z', 'ci', 0);
EOF
  expect_ok ""
  sq db <<<"SELECT migrate_apply('m');"
  expect_rc 1
  expect_match "apply refused before the repair" "^4 problems with the migrations" "$ERR"
  q db "SELECT migrate_repair('m');" "accepted the new checksum of 2 modified migrations (1, 2); forgot 1 missing migration (3); cleared 1 failed migration (4)"
  sq db <<EOF
SELECT id, version, name, direction, checksum, script, applied_by, success, execution_ms,
       applied_at GLOB '$ISO_GLOB'
  FROM migrate_history WHERE direction = 'repair' ORDER BY id;
$TABLES
SELECT version, state, applied_checksum FROM migrations_status('m');
SELECT migrate_repair('m');
SELECT migrate_validate('m');
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
  q db "SELECT migrate_apply('m'); $TABLES SELECT version, state FROM migrations_status('m');" "2
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
test_baseline_then_apply() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/4_d.up.sql <<<'CREATE TABLE d (x INTEGER);'
  sq --no-load db <<<'CREATE TABLE a (x INTEGER); CREATE TABLE b (x INTEGER);'
  expect_ok ""
  sq db <<EOF
SELECT migrate_baseline('2', 'legacy schema');
SELECT version, state, applied_checksum IS NULL, execution_ms FROM migrations_status('m');
SELECT * FROM migrate_plan('m');
SELECT migrate_apply('m');
$TABLES
SELECT version, state FROM migrations_status('m');
SELECT id, version, name, direction, checksum IS NULL, script IS NULL, applied_by, success
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

  # a baseline between two versions, with the default name
  sq --no-load other.db <<<'CREATE TABLE a (x INTEGER); CREATE TABLE b (x INTEGER);'
  expect_ok ""
  q other.db "SELECT migrate_baseline('2.5'); SELECT migrate_apply('m'); $TABLES
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
test_baseline_refused_when_history_has_applied() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  q db "SELECT migrate_apply('m');" "2"
  dump db
  local before=$DUMP
  sq db <<<"SELECT migrate_baseline('5');"
  expect_error "refusing to baseline at 5: migrate_history already records 2 applied migrations; a baseline only describes a database built before migrate" ""
  sq db <<<"SELECT migrate_baseline('1', 'legacy');"
  expect_error "refusing to baseline at 1: migrate_history already records 2 applied migrations; a baseline only describes a database built before migrate" ""
  sq db <<<"SELECT migrate_baseline('latest');"
  expect_error "baseline version \"latest\" is not a version (expected digits joined by '.', '_' or '-', such as 20240101 or 2.15.0)" ""
  dump db
  expect_eq "schema and history after the refused baselines" "$before" "$DUMP"
}

# out_of_order = error (the default) refuses an older pending migration; allow applies it, in
# version order with the newer pending ones.
test_out_of_order_setting() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  q db "SELECT migrate_apply('m');" "2"
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put m/4_d.up.sql <<<'CREATE TABLE d (x INTEGER);'
  dump db
  local before=$DUMP
  local refused="2_b.up.sql: migration 2 is out of order: it is pending but older than the newest applied migration 3
HINT: give the migration a version newer than the newest applied one, or allow it with the out_of_order setting"
  sq db <<<"SELECT migrate_set('out_of_order'); SELECT migrate_apply('m');"
  expect_error "$refused" "error"
  sq db <<<"SELECT migrate_set('out_of_order', 'error'); SELECT migrate_apply('m');"
  expect_error "$refused" "error"
  dump db
  expect_eq "schema and history after the refused apply" "$before" "$DUMP"
  sq db <<EOF
SELECT migrate_set('out_of_order', 'allow');
SELECT * FROM migrate_plan('m');
SELECT migrate_validate('m');
SELECT migrate_apply('m');
$TABLES
SELECT version, state FROM migrations_status('m');
SELECT group_concat(version, ' ') FROM (SELECT version FROM migrate_history ORDER BY id);
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
1 3 2 4"
  # back to error: the next stray migration is refused again
  put m/2.5_late.up.sql <<<'CREATE TABLE late (x INTEGER);'
  sq db <<<"SELECT migrate_set('out_of_order', 'allow'); SELECT migrate_set('out_of_order', 'error'); SELECT migrate_apply('m');"
  expect_error "2.5_late.up.sql: migration 2.5 is out of order: it is pending but older than the newest applied migration 4
HINT: give the migration a version newer than the newest applied one, or allow it with the out_of_order setting" "allow
error"
}

# missing = error (the default) refuses when an applied migration's file is gone; ignore lets
# apply go on (the migration still shows as missing).
test_missing_setting() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/1_a.down.sql <<<'DROP TABLE a;'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put m/2_b.down.sql <<<'DROP TABLE b;'
  q db "SELECT migrate_apply('m');" "2"
  rm m/1_a.up.sql m/1_a.down.sql
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/3_c.down.sql <<<'DROP TABLE c;'
  dump db
  local before=$DUMP
  local refused="1_a.up.sql: migration 1 was applied but its file is missing from the folder
HINT: restore the missing file, or forget it with migrate_repair"
  sq db <<<"SELECT migrate_set('missing'); SELECT migrate_apply('m');"
  expect_error "$refused" "error"
  sq db <<<"SELECT migrate_validate('m');"
  expect_error "$refused" ""
  dump db
  expect_eq "schema and history after the refused apply" "$before" "$DUMP"
  sq db <<EOF
SELECT migrate_set('missing', 'ignore');
SELECT migrate_validate('m');
SELECT * FROM migrate_plan('m');
SELECT migrate_apply('m');
$TABLES
SELECT version, state FROM migrations_status('m');
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
  q db "SELECT migrate_set('missing', 'ignore'); SELECT migrate_to('m', '0'); $COUNT_TABLES
SELECT version, state FROM migrations_status('m');" "ignore
3
0
2|pending
3|pending"
}

# A down script that fails undoes the whole call: the reverts that ran before it in the same
# call are undone too; the error names the migration, the file and the line.
test_down_failure_rolls_back_whole_call() {
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
  q db "SELECT migrate_apply('m'); INSERT INTO b VALUES (1);" "3"
  dump db
  local before=$DUMP
  local failed="migration 2 (2_b.sql, line 6): no such table: nope"
  sq db <<<"SELECT migrate_rollback('m', 2);"
  expect_error "$failed" ""
  sq db <<<"SELECT migrate_to('m', '0');"
  expect_error "$failed" ""
  sq db <<<"SELECT migrate_to('m', '1');"
  expect_error "$failed" ""
  dump db
  expect_eq "schema, data and history after the failed reverts" "$before" "$DUMP"
  q db "SELECT version, state FROM migrations_status('m');" "1|applied
2|applied
3|applied"
  # the same with the copy history kept (the down section is gone from the file): the error
  # says so, and gives the line in that copy
  put m/2_b.sql <<'EOF'
-- migrate:up
CREATE TABLE b (x INTEGER);
EOF
  sq db <<<"SELECT migrate_rollback('m', 2);"
  expect_error "migration 2 (the down script kept in migrate_history for 2_b.sql, line 3): no such table: nope" ""
  dump db
  expect_eq "schema, data and history after the failed revert" "$before" "$DUMP"
  # one step that does not reach the failing script goes through
  q db "SELECT migrate_rollback('m'); $TABLES" "1
a
b"
}

# Bad arguments to migrate_rollback and migrate_to are refused and change nothing.
test_rollback_and_to_argument_errors() {
  lc_four
  q db "SELECT migrate_apply('m');" "4"
  dump db
  local before=$DUMP
  sq --no-bail db <<'EOF'
SELECT migrate_rollback('m', -1);
SELECT migrate_rollback('m', 'two');
SELECT migrate_rollback('m', 1.5);
SELECT migrate_rollback('nope');
SELECT migrate_to('m', NULL);
SELECT migrate_to('m', 'latest');
SELECT migrate_to('m', '');
EOF
  expect_rc 1
  expect_err "migrate_rollback: steps must be a whole number, 0 or more
migrate_rollback: steps must be a whole number, 0 or more
migrate_rollback: steps must be a whole number, 0 or more
migrations folder \"nope\" (relative to the working directory \"$PWD\") does not exist
migrate_to needs a target version
target \"latest\" is not a version (expected digits joined by '.', '_' or '-', such as 20240101 or 2.15.0)
target \"\" is not a version (expected digits joined by '.', '_' or '-', such as 20240101 or 2.15.0)"
  dump db
  expect_eq "schema and history after the bad calls" "$before" "$DUMP"
}

# migrate_set: unknown names and values, and a NULL value, are errors that change nothing; an
# absent value reads the setting.
test_migrate_set_errors() {
  sq --no-bail db <<'EOF'
SELECT migrate_set('out_of_order', 'allow');
SELECT migrate_set('nope', 'allow');
SELECT migrate_set(NULL, 'allow');
SELECT migrate_set('nope');
SELECT migrate_set('out_of_order', 'Allow');
SELECT migrate_set('out_of_order', 'ignore');
SELECT migrate_set('out_of_order', '');
SELECT migrate_set('missing', 'allow');
SELECT migrate_set('missing', 'yes');
SELECT migrate_set('out_of_order');
SELECT migrate_set('out_of_order', NULL);
SELECT migrate_set('missing');
EOF
  expect_rc 1
  expect_err "migrate_set: unknown setting \"nope\" (settings: out_of_order, missing, drift)
migrate_set: unknown setting \"\" (settings: out_of_order, missing, drift)
migrate_set: unknown setting \"nope\" (settings: out_of_order, missing, drift)
migrate_set: out_of_order must be 'error' or 'allow', not 'Allow'
migrate_set: out_of_order must be 'error' or 'allow', not 'ignore'
migrate_set: out_of_order must be 'error' or 'allow', not ''
migrate_set: missing must be 'error' or 'ignore', not 'allow'
migrate_set: missing must be 'error' or 'ignore', not 'yes'
migrate_set: out_of_order cannot be set to NULL (values: 'error' or 'allow')"
  expect_out "allow
allow
error"
}

# Settings belong to the connection: a second connection to the same database, and a new
# process, still have the defaults.
test_settings_are_per_connection() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  q db "SELECT migrate_apply('m');" "2"
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  sq --no-bail db <<EOF
SELECT migrate_set('out_of_order', 'allow');
SELECT migrate_set('missing', 'ignore');
.connection 1
.open db
.load $MIGRATE_SO
SELECT migrate_set('out_of_order');
SELECT migrate_set('missing');
SELECT migrate_apply('m');
.connection 0
SELECT migrate_set('out_of_order');
SELECT migrate_apply('m');
EOF
  expect_rc 1
  expect_err "2_b.up.sql: migration 2 is out of order: it is pending but older than the newest applied migration 3
HINT: give the migration a version newer than the newest applied one, or allow it with the out_of_order setting"
  expect_out "allow
ignore
error
error
allow
1"
  q db "SELECT migrate_set('out_of_order'), migrate_set('missing'); SELECT count(*) FROM migrate_history;" "error|error
3"
}

# After migrate_repair accepted a changed migration (its 'repair' row keeps the scripts as they
# are now), a revert with the down file gone runs the down script accepted by the repair, as it
# would have run the file's down script had the file still been there; not the one recorded by
# the original apply.
test_rollback_after_repair_uses_accepted_down_script() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/1_a.down.sql <<<'DROP TABLE a_typo;'
  q db "SELECT migrate_apply('m');" "1"
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER); -- reviewed'
  put m/1_a.down.sql <<<'DROP TABLE a;'
  q db "SELECT migrate_repair('m'); SELECT trim(down_sql, char(10)) FROM migrate_history WHERE direction = 'repair';" \
    "accepted the new checksum of 1 modified migration (1)
DROP TABLE a;"
  rm m/1_a.down.sql
  sq db <<EOF
SELECT migrate_rollback('m');
$TABLES
SELECT version, direction, trim(down_sql, char(10)) FROM migrate_history WHERE direction = 'down';
SELECT version, state FROM migrations_status('m');
EOF
  expect_ok "1
1|down|DROP TABLE a;
1|pending"
}

# A folder that holds none of the applied migrations (another project's folder) would make a
# repair forget them all: refused, history unchanged; a repair that forgets some still works.
test_repair_refuses_to_forget_everything() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  put other/7_x.up.sql <<<'CREATE TABLE x (x INTEGER);'
  q db "SELECT migrate_apply('m');" "2"
  dump db
  local before=$DUMP
  sq db <<<"SELECT migrate_repair('other');"
  expect_error "migrate_repair would forget every applied migration (2): the source holds none of them; nothing was changed
HINT: check that this is the migrations folder of this database (a NULL folder means the migrate_scripts table)"
  dump db
  expect_eq "schema and history after the refused repair" "$before" "$DUMP"
  rm m/1_a.up.sql
  q db "SELECT migrate_repair('m');" "forgot 1 missing migration (1)"
}
