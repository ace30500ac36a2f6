#!/usr/bin/env bash
# migrate_add_unique_script: the steps that add a UNIQUE constraint without blocking writes,
# run through psql's \gexec outside a transaction, as the README says. While the step CREATE
# UNIQUE INDEX CONCURRENTLY waits for an older snapshot, another session inserts into the table
# and commits (a plain CREATE UNIQUE INDEX would make it wait until the build ends); then the
# constraint is there and valid. A duplicate inserted during the build makes it fail and leave
# an INVALID index, which the next call names with the DROP INDEX CONCURRENTLY to run. Data with
# duplicates is refused naming the rows, at generation and again by the first step when it
# runs; an expression key gets the unique index alone; the steps pasted into a migration marked
# no-transaction run through migrate_script. Identifiers are hostile throughout.
# shellcheck disable=SC2317 # functions called through wait_until
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin unique_concurrently

new_db DB || { fail "could not create the database"; scenario_end; }
# a schema, table and columns whose names need quoting
pg_q -d "$DB" -c "CREATE SCHEMA \"Sch\"\"ema\";
CREATE TABLE \"Sch\"\"ema\".\"Us\"\"ers\" (id integer PRIMARY KEY, \"E mail\" text, org integer);
INSERT INTO \"Sch\"\"ema\".\"Us\"\"ers\" SELECT g, 'u' || g || '@x', g % 7 FROM generate_series(1, 20000) g;
CREATE TABLE other (x integer); INSERT INTO other VALUES (1);" >/dev/null ||
  { fail "could not create the tables"; scenario_end; }
PSQL=(psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB")
SP="SET search_path = public, \"Sch\"\"ema\";"
expect_contains() { [[ $3 == *"$2"* ]] || fail "$1: [$2] not in: ${3:0:2000}"; }

# --- 1. the steps, in order, quoted ------------------------------------------------------
STEPS=$(pg_q -d "$DB" -c "$SP SELECT seq || ': ' || statement FROM migrate_add_unique_script('Us\"ers', 'E mail') ORDER BY seq" 2>&1)
expect_eq "the steps" "1: SELECT pg_catalog.count(*) AS steps FROM public.migrate_add_unique_script('Us\"ers', 'E mail', 'Us\"ers_E mail_key');
2: CREATE UNIQUE INDEX CONCURRENTLY \"Us\"\"ers_E mail_key\" ON \"Sch\"\"ema\".\"Us\"\"ers\" (\"E mail\");
3: ALTER TABLE \"Sch\"\"ema\".\"Us\"\"ers\" ADD CONSTRAINT \"Us\"\"ers_E mail_key\" UNIQUE USING INDEX \"Us\"\"ers_E mail_key\";" "$STEPS"

# --- 2. writes go on while the index is built ----------------------------------------------
# run_steps <out> [index]: the steps through \gexec in the background, pid in STEPS_PID
# shellcheck disable=SC2016 # $2 is expanded: the quotes are inside double quotes
run_steps() {
  printf '%s\n' "$SP" "SELECT statement FROM migrate_add_unique_script('Us\"ers', 'E mail'${2:+, '$2'}) ORDER BY seq \\gexec" >"$WORK/steps.sql"
  bg STEPS_PID sh -c "psql -X -q -At -v ON_ERROR_STOP=1 -d '$DB' -f '$WORK/steps.sql' >'$1' 2>&1"
}
# hold_snapshot [sql]: a session holds a snapshot (the concurrent build waits for it before it
# ends), or runs sql in an open transaction (a write: the build waits for it before it starts).
hold_snapshot() {
  rm -f "$WORK/hold.fifo" && mkfifo "$WORK/hold.fifo"
  bg HOLDER sh -c "psql -X -q -At -d '$DB' <'$WORK/hold.fifo' >'$WORK/hold.out' 2>&1"
  exec 7>"$WORK/hold.fifo"
  echo "BEGIN ISOLATION LEVEL REPEATABLE READ; ${1:-SELECT 1 FROM other}; SELECT 'held';" >&7
  wait_until 30 grep -q held "$WORK/hold.out"
}
release_snapshot() {
  echo "COMMIT;" >&7
  exec 7>&-
}
build_waiting() {
  [ "$(pg_q -d "$DB" -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE UNIQUE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock'")" = 1 ]
}

hold_snapshot || fail "the snapshot holder did not start"
run_steps "$WORK/steps1.out"
wait_until 60 build_waiting || fail "the concurrent build never waited for the old snapshot ($(cat "$WORK/steps1.out"))"
# a writer inserts and commits while the build is under way (bounded: a blocked insert fails)
W=$("${PSQL[@]}" -c "SET statement_timeout = '60s'; INSERT INTO \"Sch\"\"ema\".\"Us\"\"ers\" VALUES (20001, 'new@x', 1) RETURNING id" 2>&1)
expect_eq "a writer's INSERT during the concurrent build committed" 20001 "$W"
expect_eq "the build was still waiting after the writer committed" yes "$(build_waiting && echo yes || echo no)"
release_snapshot
wait_bg STEPS_RC "$STEPS_PID" 120
wait_bg HOLD_RC "$HOLDER" 30
expect_eq "the steps ran through \\gexec ($(cat "$WORK/steps1.out"))" 0 "$STEPS_RC"
expect_eq "the constraint is there, UNIQUE, on the valid index" "u|t|t" \
  "$(pg_q -d "$DB" -c "SELECT c.contype, i.indisvalid, i.indisunique FROM pg_constraint c JOIN pg_index i ON i.indexrelid = c.conindid WHERE c.conname = 'Us\"ers_E mail_key'")"
expect_eq "every row is there" 20001 "$(pg_q -d "$DB" -c "SELECT count(*) FROM \"Sch\"\"ema\".\"Us\"\"ers\"")"
OUT=$("${PSQL[@]}" -c "INSERT INTO \"Sch\"\"ema\".\"Us\"\"ers\" VALUES (20002, 'new@x', 1)" 2>&1)
expect_contains "the constraint refuses a duplicate" 'violates unique constraint "Us"ers_E mail_key"' "$OUT"
expect_eq "a second call: nothing to do, no step" 0 \
  "$(pg_q -d "$DB" -c "$SP SELECT count(*) FROM migrate_add_unique_script('Us\"ers', 'E mail')")"

# --- 3. a duplicate written during the build: INVALID index, named by the next call ----------
pg_q -d "$DB" -c "ALTER TABLE \"Sch\"\"ema\".\"Us\"\"ers\" DROP CONSTRAINT \"Us\"\"ers_E mail_key\"" >/dev/null
# the writer's transaction inserts a duplicate and commits while the build waits for it to end
hold_snapshot "INSERT INTO \"Sch\"\"ema\".\"Us\"\"ers\" VALUES (20003, 'new@x', 1)" ||
  fail "the writer did not start"
run_steps "$WORK/steps3.out" email_again
wait_until 60 build_waiting || fail "the second build never waited ($(cat "$WORK/steps3.out"))"
release_snapshot
wait_bg STEPS_RC "$STEPS_PID" 120
wait_bg HOLD_RC "$HOLDER" 30
expect_eq "the build that met a duplicate failed, and psql stopped" 3 "$STEPS_RC"
expect_contains "the build's error" "could not create unique index" "$(cat "$WORK/steps3.out")"
expect_eq "it left an INVALID index and no constraint" "f|0" \
  "$(pg_q -d "$DB" -c "SELECT i.indisvalid, (SELECT count(*) FROM pg_constraint WHERE conname = 'email_again') FROM pg_index i WHERE i.indexrelid = '\"Sch\"\"ema\".email_again'::regclass")"
pg_q -d "$DB" -c "DELETE FROM \"Sch\"\"ema\".\"Us\"\"ers\" WHERE id = 20003" >/dev/null
OUT=$("${PSQL[@]}" -c "$SP SELECT * FROM migrate_add_unique_script('Us\"ers', 'E mail', 'email_again')" 2>&1)
expect_contains "the next call names the INVALID index" "an index named email_again already exists and is not a unique index on Us\"ers of these columns: it is not valid (a failed concurrent build leaves such an index)" "$OUT"
expect_contains "and says what to run" "HINT:  DROP INDEX CONCURRENTLY email_again; then run the steps again" "$OUT"
OUT=$("${PSQL[@]}" -c "$SP SELECT migrate_add_unique('Us\"ers', 'E mail', 'email_again')" 2>&1)
expect_contains "migrate_add_unique names it too" "it is not valid (a failed concurrent build leaves such an index)" "$OUT"
pg_q -d "$DB" -c "DROP INDEX CONCURRENTLY \"Sch\"\"ema\".email_again" >/dev/null
run_steps "$WORK/steps4.out" email_again
wait_bg STEPS_RC "$STEPS_PID" 120
expect_eq "after DROP INDEX CONCURRENTLY the steps run ($(cat "$WORK/steps4.out"))" 0 "$STEPS_RC"
expect_eq "the constraint email_again is there" "u" \
  "$(pg_q -d "$DB" -c "SELECT contype FROM pg_constraint WHERE conname = 'email_again'")"

# --- 4. duplicates: refused naming the rows, at generation and by the first step -------------
pg_q -d "$DB" -c "CREATE TABLE dup (id integer PRIMARY KEY, email text);
INSERT INTO dup VALUES (1, 'a@x'), (2, 'a@x'), (3, 'b@x');" >/dev/null
OUT=$("${PSQL[@]}" -c "SELECT * FROM migrate_add_unique_script('dup', 'email')" 2>&1)
RC=$?
expect_eq "duplicates: the call fails" 1 "$RC"
expect_contains "duplicates: the report" "cannot make dup (email) unique: 1 duplicate group, 2 rows; nothing was changed" "$OUT"
expect_contains "duplicates: the key named" "email 'a@x' appears 2 times" "$OUT"
OUT=$(pg_q -d "$DB" -c "SELECT key, count, rows FROM migrate_duplicates('dup', 'email')")
expect_eq "the rows, as migrate_duplicates lists them" "a@x|2|1, 2" "$OUT"
# steps made on clean data, then a duplicate arrives before they run: the first step stops them
pg_q -d "$DB" -c "DELETE FROM dup WHERE id = 2" >/dev/null
pg_q -d "$DB" -c "SELECT statement FROM migrate_add_unique_script('dup', 'email') ORDER BY seq" >"$WORK/dup_steps.txt"
pg_q -d "$DB" -c "INSERT INTO dup VALUES (2, 'a@x')" >/dev/null
OUT=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -f "$WORK/dup_steps.txt" 2>&1)
RC=$?
expect_eq "stale steps: the first step fails" 3 "$RC"
expect_contains "stale steps: the report" "email 'a@x' appears 2 times" "$OUT"
expect_eq "stale steps: no index was built" 0 \
  "$(pg_q -d "$DB" -c "SELECT count(*) FROM pg_indexes WHERE tablename = 'dup' AND indexname <> 'dup_pkey'")"

# --- 5. an expression key: the unique index alone ------------------------------------------
pg_q -d "$DB" -c "DELETE FROM dup WHERE id = 2" >/dev/null
OUT=$(pg_q -d "$DB" -c "SELECT string_agg(statement, E'\n' ORDER BY seq) FROM migrate_add_unique_script('dup', 'lower(email)')")
expect_eq "expression key: the check and the index, no constraint" "SELECT pg_catalog.count(*) AS steps FROM public.migrate_add_unique_script('dup', 'lower(email)', 'dup_lower_email_key');
CREATE UNIQUE INDEX CONCURRENTLY dup_lower_email_key ON public.dup ((lower(email)));" "$OUT"
OUT=$(echo "SELECT statement FROM migrate_add_unique_script('dup', 'lower(email)') ORDER BY seq \gexec" | "${PSQL[@]}" 2>&1)
expect_eq "expression key: the steps ran ($OUT)" 0 $?
OUT=$("${PSQL[@]}" -c "INSERT INTO dup VALUES (9, 'B@X')" 2>&1)
expect_contains "expression key: the index refuses B@X" 'violates unique constraint "dup_lower_email_key"' "$OUT"

# --- 6. the steps as a migration marked no-transaction, through migrate_script -----------------
pg_q -d "$DB" -c "CREATE TABLE members (id integer PRIMARY KEY, handle text);
INSERT INTO members SELECT g, 'h' || g FROM generate_series(1, 100) g;" >/dev/null
MIG=$(new_dir migrations)
{
  echo "-- migrate:no-transaction"
  pg_q -d "$DB" -c "SELECT statement FROM migrate_add_unique_script('members', 'handle') ORDER BY seq"
} >"$MIG/1_members_handle_unique.sql"
publish
OUT=$(echo "SELECT statement FROM migrate_script('$MIG') \gexec" | "${PSQL[@]}" 2>&1)
expect_eq "migrate_script ran the marked migration ($OUT)" 0 $?
expect_eq "its constraint" "u" "$(pg_q -d "$DB" -c "SELECT contype FROM pg_constraint WHERE conname = 'members_handle_key'")"
expect_eq "its history row" "1|applied" \
  "$(pg_q -d "$DB" -c "SELECT version, state FROM migrations_status('$MIG')")"

scenario_end
