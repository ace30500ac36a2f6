# shellcheck shell=bash
# Several connections: concurrent callers, locks, journal modes.

# Migrations that take a moment: BIG_ROWS rows inserted by a recursive CTE, copied, indexed.
slow_migrations() {
  put m/1_big.up.sql <<EOF
CREATE TABLE big (n INTEGER);
WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $BIG_ROWS)
INSERT INTO big SELECT n FROM s;
EOF
  put m/2_copy.up.sql <<<'CREATE TABLE big2 AS SELECT n * 2 AS m FROM big;'
  put m/3_index.sql <<'EOF'
-- migrate:up
CREATE INDEX big_n ON big (n);
-- migrate:down
DROP INDEX big_n;
EOF
}

# Two shells apply the same folder to the same file at once: each migration runs exactly once,
# and the two results add up to the number of migrations.
test_concurrent_apply_from_two_processes() {
  slow_migrations
  printf '.timeout %s\nSELECT migrate_apply('"'m'"');\n' "$BUSY_MS" >apply.sql
  sqlite_run_bg one db apply.sql
  # start the second while the first is inside its transaction (its journal exists), when the
  # timing allows; either way each migration must run once
  local i
  # shellcheck disable=SC2154  # set by sqlite_run_bg
  for ((i = 0; i < 500; i++)); do
    [ -e db-journal ] || ! kill -0 "$BG_PID_one" 2>/dev/null && break
    sleep 0.01
  done
  sqlite_run_bg two db apply.sql
  local one two
  sqlite_wait one
  expect_rc 0
  expect_err ""
  one=$OUT
  sqlite_wait two
  expect_rc 0
  expect_err ""
  two=$OUT
  expect_eq "results of the two calls" "0 3" "$(printf '%s\n%s\n' "$one" "$two" | sort -n | tr '\n' ' ' | sed 's/ $//')"
  sqlite_q db "SELECT version, count(*) FROM migrate_history GROUP BY version ORDER BY version;
SELECT count(*), sum(n) = $BIG_ROWS * ($BIG_ROWS + 1) / 2 FROM big;
SELECT count(*) FROM big2;
SELECT migrate_apply('m');" "1|1
2|1
3|1
$BIG_ROWS|1
$BIG_ROWS
0"
}

# While one caller holds the migration lock, a caller without a busy timeout fails with
# "database is locked" and does nothing; the holder's ROLLBACK leaves nothing either.
test_locked_without_busy_timeout() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  mkfifo holder.fifo
  sqlite_run_bg holder db holder.fifo
  exec 7>holder.fifo
  # the holder applies inside its own transaction and keeps it open, then says it is ready
  printf '%s\n' "BEGIN;" "SELECT migrate_apply('m');" ".output ready" "SELECT 'ready';" \
    ".output stdout" >&7
  local i=0
  until [ "$(cat ready 2>/dev/null)" = ready ]; do
    sleep 0.1
    i=$((i + 1))
    if [ $i -ge $((SQ_TIME_LIMIT * 10)) ]; then
      fail "the holder never got the lock"
      break
    fi
  done

  # foreign_keys is switched off before the lock is tried: it must come back on after the refusal
  sqlite_run --no-bail db <<<"PRAGMA foreign_keys = ON;
SELECT migrate_apply('m');
PRAGMA foreign_keys;"
  expect_error "database is locked" "1"
  sqlite_run db <<<"SELECT * FROM migrate_plan('m');"
  expect_ok "1|up|1|a|1_a.up.sql
2|up|2|b|2_b.up.sql"

  printf '%s\n' "ROLLBACK;" >&7
  exec 7>&-
  sqlite_wait holder
  expect_ok "2"
  sqlite_q db "SELECT count(*) FROM sqlite_schema;" "0"

  # once the lock is free the same call goes through
  sqlite_q db "SELECT migrate_apply('m'); SELECT version FROM migrate_history ORDER BY id;" "2
1
2"
}

# Apply, refuse and roll back in the given journal mode, checked from another connection.
journal_mode_case() {
  local mode=$1
  put m/1_a.up.sql <<'EOF'
CREATE TABLE a (x INTEGER);
INSERT INTO a VALUES (1), (2), (3);
EOF
  put m/2_b.sql <<'EOF'
-- migrate:up
ALTER TABLE a ADD COLUMN y TEXT;
UPDATE a SET y = 'v' || x;
-- migrate:down
ALTER TABLE a DROP COLUMN y;
EOF
  sqlite_q db "PRAGMA journal_mode = $mode; SELECT migrate_apply('m');" "$mode
2"
  sqlite_q db "PRAGMA journal_mode; SELECT group_concat(y) FROM a; SELECT count(*) FROM migrate_history;" "$mode
v1,v2,v3
2"
  put m/3_c.up.sql <<'EOF'
DELETE FROM a;
CREATE TABLE c (x INTEGER);
INSERT INTO c VALUES (1);
INSERT INTO c SELECT * FROM nope;
EOF
  sqlite_run db <<<"SELECT migrate_apply('m');"
  expect_error "migration 3 (3_c.up.sql, line 4): no such table: nope" ""
  sqlite_q db "PRAGMA journal_mode; SELECT count(*) FROM a; SELECT count(*) FROM migrate_history;
SELECT count(*) FROM sqlite_schema WHERE name = 'c'; PRAGMA integrity_check;" "$mode
3
2
0
ok"
  # and a reader on another connection during the call sees the state before it, then after
  put m/3_c.up.sql <<<'CREATE TABLE c (x INTEGER);'
  sqlite_run --no-bail db <<'EOF'
.connection 1
.open db
BEGIN;
SELECT count(*) FROM migrate_history;
.connection 0
.timeout 100
PRAGMA foreign_keys = ON;
SELECT migrate_apply('m');
PRAGMA foreign_keys;
.connection 1
SELECT count(*) FROM migrate_history;
COMMIT;
SELECT count(*) FROM migrate_history;
EOF
  if [ "$mode" = wal ]; then
    # WAL: the reader does not block the writer and keeps its snapshot until it ends
    expect_ok "2
1
1
2
3"
  else
    # rollback journal: the reader's shared lock keeps the writer from committing; the failed
    # COMMIT undoes the call and foreign keys are on again
    expect_error "database is locked" "2
1
2
2"
  fi
}

test_journal_mode_wal() { journal_mode_case wal; }
test_journal_mode_delete() { journal_mode_case delete; }
