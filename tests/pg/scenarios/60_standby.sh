#!/usr/bin/env bash
# A primary with a hot standby (pg_basebackup -R into a second data folder, each server on its
# own unix socket), and a failover in the middle of a call:
# - migrate_apply on the primary reaches the standby: schema, history and migrations_status
#   read there are identical;
# - every function that writes, called on the standby, fails first with SQLSTATE 25006 and
#   "<function>: this server is a standby in recovery; apply on the primary", changing nothing;
#   the read-only calls work there;
# - with synchronous_standby_names naming the standby and synchronous_commit = remote_apply,
#   status read on the standby right after the call returns shows the migration applied;
# - a migrate_apply is running on the primary (waiting inside its second migration) when the
#   primary is stopped in immediate mode and the standby promoted: the promoted server holds
#   none of that call, and a new migrate_apply there ends exactly where a clean run ends.
# Both servers are stopped at exit, also on failure.
# shellcheck disable=SC2317 # functions called through wait_until and the cleanup hooks
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin standby_and_failover no-cluster

# Our own pair of servers: whatever cluster the caller runs stays untouched (its PG* variables
# are restored at exit).
SAVED_PG_ENV=$(declare -p PGHOST PGPORT PGUSER PGDATABASE 2>/dev/null)
STANDBY_DIR=
stop_pair() {
  if [ -n "$STANDBY_DIR" ]; then
    as_owner "$PG_BINDIR/pg_ctl" -D "$STANDBY_DIR/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$STANDBY_DIR"
  fi
  cluster_stop
  unset PGHOST PGPORT PGUSER PGDATABASE
  eval "$SAVED_PG_ENV"
}
CLUSTER_DIR=
CLEANUP_HOOKS+=(stop_pair)
if ! cluster_start wal_level=replica max_wal_senders=4 >"$WORK/cluster.log" 2>&1; then
  fail "could not start the primary: $(cat "$WORK/cluster.log")"
  scenario_end
fi
PRIMARY_DIR=$CLUSTER_DIR

new_db DB || { fail "could not create the database"; scenario_end; }

# The standby: a base backup with its recovery settings (-R), then a hot standby named sb1
# (its cluster_name is the application_name it connects to the primary with).
STANDBY_DIR=$(mktemp -d /tmp/migrate-standby.XXXXXX)
chmod 755 "$STANDBY_DIR"
[ "$(id -u)" -eq 0 ] && chown "$CLUSTER_OWNER" "$STANDBY_DIR"
if ! as_owner "$PG_BINDIR/pg_basebackup" -h "$PRIMARY_DIR" -p "$PGPORT" -U "$PGUSER" \
  -D "$STANDBY_DIR/data" -R -X stream -c fast --no-sync >"$WORK/basebackup.log" 2>&1; then
  fail "pg_basebackup failed: $(cat "$WORK/basebackup.log")"
  scenario_end
fi
if ! as_owner "$PG_BINDIR/pg_ctl" -D "$STANDBY_DIR/data" -l "$STANDBY_DIR/server.log" \
  -o "-c listen_addresses='' -c unix_socket_directories='$STANDBY_DIR' -c fsync=off -c cluster_name=sb1 -c hot_standby=on" \
  -w -t 60 start >/dev/null 2>&1; then
  fail "the standby did not start: $(cat "$STANDBY_DIR/server.log")"
  scenario_end
fi

# psql on the standby
sb() { PGHOST=$STANDBY_DIR pg_q "$@"; }
expect_eq "the standby is in recovery" t "$(sb -d "$DB" -c 'SELECT pg_is_in_recovery()')"

# Wait until the standby has replayed everything the primary has written so far.
replayed() { [ "$(sb -d "$DB" -c "SELECT pg_last_wal_replay_lsn() >= '$1'::pg_lsn")" = t ]; }
catch_up() {
  local lsn
  lsn=$(pg_q -d "$DB" -c 'SELECT pg_current_wal_lsn()')
  wait_until 60 replayed "$lsn" || fail "the standby did not replay up to $lsn"
}

# Migrations: DIR (001-003), DIR2 = DIR + 004, DIR3 = DIR2 + 005-007, where 006 waits on an
# advisory lock another session holds.
DIR=$(new_dir v3)
printf 'CREATE TABLE sb_a (id integer PRIMARY KEY, v text);\n' >"$DIR/001_a.sql"
printf 'CREATE TABLE sb_b (id integer PRIMARY KEY, a integer REFERENCES sb_a);\nINSERT INTO sb_a VALUES (1, %s);\n' "'one'" >"$DIR/002_b.sql"
printf 'ALTER TABLE sb_a ADD COLUMN w integer;\n' >"$DIR/003_w.sql"
DIR2=$(new_dir v4)
cp "$DIR"/*.sql "$DIR2/"
printf 'CREATE TABLE sb_d (id integer);\n' >"$DIR2/004_d.sql"
DIR3=$(new_dir v7)
cp "$DIR2"/*.sql "$DIR3/"
printf 'CREATE TABLE sb_e (id integer);\nINSERT INTO sb_e VALUES (5);\n' >"$DIR3/005_e.sql"
printf 'SELECT pg_advisory_xact_lock(60606);\nCREATE TABLE sb_f (id integer);\n' >"$DIR3/006_f.sql"
printf 'CREATE TABLE sb_g (id integer);\n' >"$DIR3/007_g.sql"
publish

SCHEMA_Q="SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_name, column_name) FROM information_schema.columns WHERE table_schema = 'public' AND table_name LIKE 'sb\\_%'"
HISTORY_Q="SELECT md5(string_agg(h::text, E'\\n' ORDER BY h.id)) FROM migrate_history h"
STATUS_Q="SELECT version, name, state, checksum, applied_checksum, applied_at, applied_by, execution_ms FROM migrations_status('%s') ORDER BY version"

# --- a migrate_apply on the primary reaches the standby ---
expect_eq "migrate_apply on the primary" 3 "$(pg_q_quiet -d "$DB" -c "SELECT migrate_apply('$DIR')")"
catch_up
expect_eq "schema on the standby" "$(pg_q -d "$DB" -c "$SCHEMA_Q")" "$(sb -d "$DB" -c "$SCHEMA_Q")"
expect_eq "history on the standby" "$(pg_q -d "$DB" -c "$HISTORY_Q")" "$(sb -d "$DB" -c "$HISTORY_Q")"
# shellcheck disable=SC2059 # the query is the format
STATUS_P=$(pg_q -d "$DB" -c "$(printf "$STATUS_Q" "$DIR")")
# shellcheck disable=SC2059
expect_eq "migrations_status on the standby" "$STATUS_P" "$(sb -d "$DB" -c "$(printf "$STATUS_Q" "$DIR")")"
expect_line "status shows 003 applied" '^003\|w\|applied\|' "$STATUS_P"
expect_eq "history rows on the standby" 3 "$(sb -d "$DB" -c 'SELECT count(*) FROM migrate_history')"

# --- every writer is refused on the standby, first, and changes nothing ---
HISTORY_BEFORE=$(sb -d "$DB" -c "$HISTORY_Q")
SCHEMA_BEFORE=$(sb -d "$DB" -c "$SCHEMA_Q")
refused_on_standby() { # <function name> <statement>
  local out
  out=$(PGHOST=$STANDBY_DIR psql -X -q -At -v VERBOSITY=verbose -d "$DB" -c "$2" 2>&1)
  expect_line "$1 on the standby: SQLSTATE 25006 and the message" \
    "^ERROR:  25006: $1: this server is a standby in recovery; apply on the primary\$" "$out"
  expect_no_line "$1 on the standby: not PostgreSQL's generic refusal" 'read-only transaction' "$out"
}
refused_on_standby migrate_apply "SELECT migrate_apply('$DIR2')"
refused_on_standby migrate_to "SELECT migrate_to('$DIR2', '004')"
refused_on_standby migrate_rollback "SELECT migrate_rollback('$DIR2')"
refused_on_standby migrate_repair "SELECT migrate_repair('$DIR2')"
refused_on_standby migrate_baseline "SELECT migrate_baseline('009')"
refused_on_standby migrate_add_unique "SELECT migrate_add_unique('sb_a', 'v')"
refused_on_standby migrate_init "SELECT migrate_init()"
refused_on_standby migrate_record "SELECT migrate_record('009', 'x', NULL, NULL, NULL, NULL, NULL, 'token')"
refused_on_standby migrate_apply_batches "CALL migrate_apply_batches('$DIR2')"
refused_on_standby migrate_grant "SELECT migrate_grant('nobody_here')"
refused_on_standby migrate_set_not_null "SELECT migrate_set_not_null('sb_a', 'v')"
refused_on_standby migrate_add_column "SELECT migrate_add_column('sb_a', 'w', 'integer', NULL, '0')"
refused_on_standby migrate_check "SELECT * FROM migrate_check('$DIR2')"
refused_on_standby migrate_revoke "SELECT migrate_revoke('nobody_here')"
expect_eq "history on the standby after the refusals" "$HISTORY_BEFORE" "$(sb -d "$DB" -c "$HISTORY_Q")"
expect_eq "schema on the standby after the refusals" "$SCHEMA_BEFORE" "$(sb -d "$DB" -c "$SCHEMA_Q")"
expect_eq "history on the primary after the refusals" "$HISTORY_BEFORE" "$(pg_q -d "$DB" -c "$HISTORY_Q")"

# --- the read-only calls work on the standby ---
expect_eq "migrations_status(dir) on the standby" "001|applied,002|applied,003|applied,004|pending" \
  "$(sb -d "$DB" -c "SELECT string_agg(version || '|' || state, ',' ORDER BY version) FROM migrations_status('$DIR2')")"
expect_eq "migrations_status() on the standby" 3 "$(sb -d "$DB" -c 'SELECT count(*) FROM migrations_status()')"
expect_eq "the view on the standby" 3 "$(sb -d "$DB" -c 'SELECT count(*) FROM migrations_status')"
expect_eq "migrate_schema on the standby" "$(pg_q -d "$DB" -c 'SELECT md5(migrate_schema())')" \
  "$(sb -d "$DB" -c 'SELECT md5(migrate_schema())')"
expect_eq "migrate_drift on the standby" 0 "$(sb -d "$DB" -c 'SELECT count(*) FROM migrate_drift()')"
expect_eq "migrate_plan on the standby" "1|up|004" \
  "$(sb -d "$DB" -c "SELECT step || '|' || direction || '|' || version FROM migrate_plan('$DIR2')")"
expect_eq "migrate_validate on the standby" ok "$(sb -d "$DB" -c "SELECT migrate_validate('$DIR2')")"
expect_line "migrate_script on the standby" 'CREATE TABLE sb_d' \
  "$(sb -d "$DB" -c "SELECT statement FROM migrate_script('$DIR2')")"
expect_eq "migrate_duplicates on the standby" 0 \
  "$(sb -d "$DB" -c "SELECT count(*) FROM migrate_duplicates('sb_a', 'v')")"

# --- synchronous replication: remote_apply makes the call visible on the standby at return ---
pg_q -d "$DB" -c "ALTER SYSTEM SET synchronous_standby_names = 'sb1'" -c 'SELECT pg_reload_conf()' >/dev/null
is_sync() { [ "$(pg_q -d "$DB" -c "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'sb1'")" = sync ]; }
wait_until 60 is_sync || fail "the standby did not become synchronous"
expect_eq "migrate_apply with synchronous_commit = remote_apply" 1 \
  "$(PGOPTIONS='-c synchronous_commit=remote_apply -c client_min_messages=warning' pg_q -d "$DB" -c "SELECT migrate_apply('$DIR2')")"
# no waiting here: remote_apply returned only once the standby had replayed the commit
expect_eq "status on the standby right after the call" applied \
  "$(sb -d "$DB" -c "SELECT state FROM migrations_status('$DIR2') WHERE version = '004'")"
expect_eq "the table on the standby right after the call" 1 \
  "$(sb -d "$DB" -c "SELECT count(*) FROM pg_class WHERE relname = 'sb_d'")"
pg_q -d "$DB" -c "ALTER SYSTEM RESET synchronous_standby_names" -c 'SELECT pg_reload_conf()' >/dev/null

# --- failover in the middle of a call ---
HOLDER_READY="$WORK/holder.ready"
bg HOLDER psql -X -q -At -d "$DB" \
  -c 'SELECT pg_advisory_lock(60606)' -c "\\o $HOLDER_READY" -c "SELECT 'held'" -c '\o' \
  -c 'SELECT pg_sleep(600)' >"$WORK/holder.out" 2>&1
held() { [ "$(cat "$HOLDER_READY" 2>/dev/null)" = held ]; }
wait_until 30 held || fail "the lock holder did not take its lock"
bg APPLY pg_q_quiet -d "$DB" -c "SELECT migrate_apply('$DIR3')" >"$WORK/apply.out" 2>&1
# (pg_stat_activity shows the migration's running statement in place of the call's)
waiting() {
  [ "$(pg_q -d "$DB" -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE '%pg_advisory_xact_lock(60606)%'")" = 1 ]
}
if ! wait_until 60 waiting; then
  fail "the long migrate_apply did not reach its waiting migration"
  scenario_end
fi
# 005 ran inside the call, 006 waits: the primary crashes now
as_owner "$PG_BINDIR/pg_ctl" -D "$PRIMARY_DIR/data" -m immediate -w stop >/dev/null 2>&1
wait_bg APPLY_RC "$APPLY" 30
[ "$APPLY_RC" != 0 ] || fail "the interrupted call succeeded, though its server crashed"
as_owner "$PG_BINDIR/pg_ctl" -D "$STANDBY_DIR/data" -w -t 60 promote >/dev/null 2>&1 ||
  fail "the standby was not promoted: $(tail -5 "$STANDBY_DIR/server.log")"
promoted() { [ "$(sb -d "$DB" -c 'SELECT pg_is_in_recovery()')" = f ]; }
wait_until 60 promoted || fail "the promoted server is still in recovery"

expect_eq "the promoted server holds none of the call (status)" \
  "001|applied,002|applied,003|applied,004|applied,005|pending,006|pending,007|pending" \
  "$(sb -d "$DB" -c "SELECT string_agg(version || '|' || state, ',' ORDER BY version) FROM migrations_status('$DIR3')")"
expect_eq "the promoted server holds none of the call (history rows)" 4 \
  "$(sb -d "$DB" -c 'SELECT count(*) FROM migrate_history')"
expect_eq "the promoted server holds none of the call (tables)" 0 \
  "$(sb -d "$DB" -c "SELECT count(*) FROM pg_class WHERE relname IN ('sb_e', 'sb_f', 'sb_g')")"

# A new migrate_apply on the promoted server ends where a clean run ends.
expect_eq "migrate_apply on the promoted server" 3 \
  "$(PGHOST=$STANDBY_DIR pg_q_quiet -d "$DB" -c "SELECT migrate_apply('$DIR3')")"
CLEAN="${DB}_clean"
CREATED_DBS+=("$CLEAN")
if ! PGHOST=$STANDBY_DIR createdb "$CLEAN" || ! sb -d "$CLEAN" -c 'CREATE EXTENSION migrate'; then
  fail "could not create the clean database on the promoted server"
fi
expect_eq "a clean run" 7 "$(PGHOST=$STANDBY_DIR pg_q_quiet -d "$CLEAN" -c "SELECT migrate_apply('$DIR3')")"
expect_eq "schema after failover and apply = clean run" "$(sb -d "$CLEAN" -c "$SCHEMA_Q")" \
  "$(sb -d "$DB" -c "$SCHEMA_Q")"
ROWS_Q="SELECT string_agg(concat_ws('|', version, name, direction, checksum, success, completed_statements), ',' ORDER BY version, id) FROM migrate_history"
expect_eq "history after failover and apply = clean run" "$(sb -d "$CLEAN" -c "$ROWS_Q")" \
  "$(sb -d "$DB" -c "$ROWS_Q")"
STATE_Q="SELECT string_agg(version || '|' || state || '|' || checksum, ',' ORDER BY version) FROM migrations_status('$DIR3')"
expect_eq "status after failover and apply = clean run" "$(sb -d "$CLEAN" -c "$STATE_Q")" \
  "$(sb -d "$DB" -c "$STATE_Q")"
expect_eq "data after failover and apply" "5|1" \
  "$(sb -d "$DB" -c 'SELECT (SELECT min(id) FROM sb_e) || $$|$$ || (SELECT count(*) FROM sb_a)')"

scenario_end
