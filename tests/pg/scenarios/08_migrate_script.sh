#!/usr/bin/env bash
# migrate_script's output run through psql \gexec as the README says to run it: with
# ON_ERROR_STOP the first error stops everything, a failed CREATE INDEX CONCURRENTLY leaves an
# INVALID index that the next migrate_apply and migrate_script name, and the session lock the
# script holds makes a concurrent migrate_apply wait and then apply nothing the script applied.
#
# Two checks fail against the build they were written for, and assert what should happen:
# the README's "psql -c '... \gexec'" command (psql sends the whole -c string to the server,
# backslash command included: a syntax error), and a migrate_apply waiting for the script's
# lock while the script runs CREATE INDEX CONCURRENTLY (a deadlock that cancels the index build).
# shellcheck disable=SC2317 # functions called through wait_until
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin migrate_script

# Advisory locks held or awaited in the current database.
ADVISORY_LOCKS="SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"

# run_script <db> <dir> [target]: the pending work through \gexec, stopping at the first error.
# Sets OUT (stdout and stderr) and RC (psql's exit status).
run_script() {
  local target=NULL
  [ $# -gt 2 ] && target="'$3'"
  OUT=$(printf "SELECT statement FROM migrate_script('%s', %s) \\\\gexec\n" "$2" "$target" |
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" 2>&1)
  RC=$?
}

# --- 1. the command the README gives, as written --------------------------------------------
new_db DB1 || { fail "could not create a database"; scenario_end; }
READ=$(new_dir readme)
cat >"$READ/1_a.sql" <<'SQL'
CREATE TABLE readme_a (x integer);
SQL
cat >"$READ/2_a_x_idx.sql" <<'SQL'
-- migrate:no-transaction
CREATE INDEX CONCURRENTLY readme_a_x_idx ON readme_a (x);
SQL
publish
OUT=$(echo "SELECT statement FROM migrate_script('$READ') \gexec" | psql -X -v ON_ERROR_STOP=1 -d "$DB1" 2>&1)
RC=$?
expect_eq "exit status of the README's echo ... \\gexec | psql command (output: $OUT)" 0 "$RC"
expect_eq "history after the README's command" "1 2" \
  "$(pg_q -d "$DB1" -c "SELECT string_agg(version, ' ' ORDER BY id) FROM migrate_history")"
# the same through psql's standard input
run_script "$DB1" "$READ"
expect_eq "exit status of the script through stdin ($OUT)" 0 "$RC"
expect_eq "history after the script through stdin" "1 2" \
  "$(pg_q -d "$DB1" -c "SELECT string_agg(version, ' ' ORDER BY id) FROM migrate_history")"
expect_eq "index built concurrently is valid" "t" \
  "$(pg_q -d "$DB1" -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 'readme_a_x_idx'::regclass")"

# --- 2. a failed CREATE INDEX CONCURRENTLY ---------------------------------------------------
new_db DB2 || { fail "could not create a database"; scenario_end; }
INV=$(new_dir invalid)
cat >"$INV/1_dup.sql" <<'SQL'
CREATE TABLE dup (k integer);
INSERT INTO dup VALUES (1), (1), (2);
SQL
cat >"$INV/2_dup_k_key.sql" <<'SQL'
-- migrate:no-transaction
CREATE UNIQUE INDEX CONCURRENTLY dup_k_key ON dup (k);
SQL
cat >"$INV/3_after.sql" <<'SQL'
CREATE TABLE after_dup (x integer);
SQL
publish
run_script "$DB2" "$INV"
expect_eq "psql's exit status when the index build fails" 3 "$RC"
expect_line "psql reports the duplicate" 'could not create unique index "dup_k_key"' "$OUT"
expect_eq "history: only the migration before it" "1" \
  "$(pg_q -d "$DB2" -c "SELECT string_agg(version, ' ' ORDER BY id) FROM migrate_history")"
expect_eq "migration 3 did not run" "" "$(pg_q -d "$DB2" -c "SELECT to_regclass('after_dup')")"
expect_eq "the index is left INVALID" "f" \
  "$(pg_q -d "$DB2" -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 'dup_k_key'::regclass")"
expect_eq "the session lock went with the session" 0 \
  "$(pg_q -d "$DB2" -c "$ADVISORY_LOCKS")"
for call in "SELECT migrate_apply('$INV')" "SELECT * FROM migrate_script('$INV')" \
            "SELECT * FROM migrate_plan('$INV')"; do
  ERR=$(psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=default -d "$DB2" -c "$call" 2>&1)
  expect_line "$call: names the INVALID index" \
    '^ERROR:  index public\.dup_k_key is INVALID: a CREATE INDEX CONCURRENTLY of this migration failed before and left it behind$' "$ERR"
  expect_line "$call: hints DROP INDEX CONCURRENTLY" \
    '^HINT:  DROP INDEX CONCURRENTLY public\.dup_k_key; then run the migration again$' "$ERR"
  expect_line "$call: names the migration" '^CONTEXT:  migration 2 \(2_dup_k_key\.sql\)$' "$ERR"
done
expect_eq "SQLSTATE of the refusal" "55000" \
  "$(psql -X -q -At -d "$DB2" -c "DO \$\$ BEGIN PERFORM migrate_apply('$INV'); EXCEPTION WHEN OTHERS THEN RAISE NOTICE '%', SQLSTATE; END \$\$" 2>&1 | sed 's/^NOTICE:  //')"
# as the hint says, then again without the duplicate
pg_q -d "$DB2" -c "DROP INDEX CONCURRENTLY public.dup_k_key" || fail "DROP INDEX CONCURRENTLY failed"
pg_q -d "$DB2" -c "DELETE FROM dup WHERE ctid = (SELECT max(ctid) FROM dup WHERE k = 1)" >/dev/null
run_script "$DB2" "$INV"
expect_eq "exit status after the fix ($OUT)" 0 "$RC"
expect_eq "history after the fix" "1 2 3" \
  "$(pg_q -d "$DB2" -c "SELECT string_agg(version, ' ' ORDER BY id) FROM migrate_history")"
expect_eq "state after the fix" "applied applied applied" \
  "$(pg_q -d "$DB2" -c "SELECT string_agg(state, ' ' ORDER BY version) FROM migrations_status('$INV')")"

# --- 3. ON_ERROR_STOP stops at a failing ordinary migration ----------------------------------
new_db DB3 || { fail "could not create a database"; scenario_end; }
STOP=$(new_dir stop)
echo 'CREATE TABLE s_one (x integer);' >"$STOP/1_one.sql"
printf -- '-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY s_one_x ON s_one (x);\n' >"$STOP/2_two.sql"
printf 'CREATE TABLE s_three (x integer);\nINSERT INTO s_missing VALUES (1);\n' >"$STOP/3_three.sql"
printf -- '-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY s_one_x2 ON s_one (x);\n' >"$STOP/4_four.sql"
echo 'CREATE TABLE s_five (x integer);' >"$STOP/5_five.sql"
publish
run_script "$DB3" "$STOP"
expect_eq "psql's exit status" 3 "$RC"
expect_line "psql reports the failure" 'relation "s_missing" does not exist' "$OUT"
expect_eq "history: the migrations before the failing one" "1 2" \
  "$(pg_q -d "$DB3" -c "SELECT string_agg(version, ' ' ORDER BY id) FROM migrate_history")"
expect_eq "nothing after it ran" 0 \
  "$(pg_q -d "$DB3" -c "SELECT count(r) FROM (VALUES (to_regclass('s_three')), (to_regclass('s_one_x2')), (to_regclass('s_five'))) v (r)")"
expect_eq "state" "applied applied pending pending pending" \
  "$(pg_q -d "$DB3" -c "SELECT string_agg(state, ' ' ORDER BY version) FROM migrations_status('$STOP')")"

# --- 4. the session lock: a concurrent migrate_apply waits, then applies nothing twice -------
# lock_case <label> <second migration's script> <seconds> <apply's exit> <apply's stdout or
# stderr pattern> <history>: the script (migrations 1, 2, 3) holds its session lock while
# migration 1 waits at a gate; meanwhile migration 4 appears in the folder and another session
# calls migrate_apply, which must wait for the lock (the gate opens that many seconds after it
# started waiting). With an ordinary migration 2 it then applies 4 alone; with a
# no-transaction one the script lets go of the lock around it, and migrate_apply, which never
# runs such a migration, refuses at once, naming it, instead of deadlocking with the index build.
lock_case() {
  local label=$1 second=$2 pause=$3 want_rc=$4 want_out=$5 want_history=$6 db dir
  new_db db || { fail "$label: could not create a database"; return; }
  pg_q -d "$db" -c 'CREATE TABLE script_gate (open boolean NOT NULL)' || fail "$label: no gate"
  dir=$(new_dir "lock_$label")
  cat >"$dir/1_wait.sql" <<'SQL'
CREATE TABLE l_one (x integer);
-- hold the script here until the test opens the gate; at most 60 s
DO $$
BEGIN
    FOR i IN 1..1200 LOOP
        EXIT WHEN EXISTS (SELECT 1 FROM script_gate WHERE open);
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$$;
SQL
  printf '%s\n' "$second" >"$dir/2_second.sql"
  echo 'CREATE TABLE l_three (x integer);' >"$dir/3_three.sql"
  publish
  printf "SELECT statement FROM migrate_script('%s') \\\\gexec\n" "$dir" >"$WORK/$label.sql"
  bg PID_SCRIPT env PGAPPNAME="migrate_script_$label" \
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -f "$WORK/$label.sql" >"$WORK/$label.script.out" 2>&1
  LOCK_DB=$db LOCK_APP="migrate_script_$label"
  lock_holder() {
    [ "$(pg_q -d "$LOCK_DB" -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
          WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = '$LOCK_APP'")" = 1 ]
  }
  wait_until 30 lock_holder || fail "$label: the script never took the session lock"
  echo 'CREATE TABLE l_four (x integer);' >"$dir/4_four.sql"
  publish
  bg PID_APPLY env PGAPPNAME="migrate_apply_$label" \
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "SELECT migrate_apply('$dir')" >"$WORK/$label.apply.out" 2>"$WORK/$label.apply.err"
  LOCK_APP="migrate_apply_$label"
  apply_waits() {
    [ "$(pg_q -d "$LOCK_DB" -c "SELECT wait_event_type || '/' || wait_event FROM pg_stat_activity
          WHERE application_name = '$LOCK_APP'")" = "Lock/advisory" ]
  }
  wait_until 30 apply_waits || fail "$label: migrate_apply did not wait for the script's lock"
  sleep "$pause"
  pg_q -d "$db" -c 'INSERT INTO script_gate VALUES (true)' >/dev/null
  wait_bg RC_SCRIPT "$PID_SCRIPT" 60
  wait_bg RC_APPLY "$PID_APPLY" 60
  expect_eq "$label: exit status of the script ($(cat "$WORK/$label.script.out"))" 0 "$RC_SCRIPT"
  expect_eq "$label: exit status of migrate_apply ($(cat "$WORK/$label.apply.err"))" "$want_rc" "$RC_APPLY"
  case "$(cat "$WORK/$label.apply.out" "$WORK/$label.apply.err")" in
    *"$want_out"*) ;;
    *) fail "$label: migrate_apply said [$(cat "$WORK/$label.apply.out" "$WORK/$label.apply.err")], expected [$want_out]" ;;
  esac
  expect_eq "$label: history, each migration once" "$want_history" \
    "$(pg_q -d "$db" -c "SELECT string_agg(version, ' ' ORDER BY id) FROM migrate_history")"
  expect_eq "$label: every index valid" 0 \
    "$(pg_q -d "$db" -c "SELECT count(*) FROM pg_index WHERE NOT indisvalid")"
  expect_eq "$label: no lock left" 0 "$(pg_q -d "$db" -c "$ADVISORY_LOCKS")"
}
lock_case ordinary 'CREATE INDEX l_one_x ON l_one (x);' 1.5 0 1 "1 2 3 4"
# CREATE INDEX CONCURRENTLY waits for every transaction with an older snapshot; a migrate_apply
# waiting for the script's lock is one, so the script must not hold the lock while it builds.
lock_case concurrently "-- migrate:no-transaction
CREATE INDEX CONCURRENTLY l_one_x ON l_one (x);" 1.5 1 "migration 2" "1 2 3"

scenario_end
