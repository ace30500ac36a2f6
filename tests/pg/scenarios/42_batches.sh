#!/usr/bin/env bash
# CALL migrate_apply_batches(dir, target, batch_size): each batch is its own committed
# transaction (history rows of different batches have different xmin), the locks of a batch are
# let go of before the next starts (each migration records how many locks its backend holds), a
# target stops it, and a failing batch is rolled back alone: the batches before it stay, the
# error keeps the migration's own CONTEXT and adds where the procedure stopped. Inside BEGIN it
# refuses and changes nothing; a batch_size under 1 is refused; a role without EXECUTE is
# refused, and the deploy role that migrate_grant made may CALL it.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin batches

new_db DB || { fail "could not create the database"; scenario_end; }
CLEANUP_HOOKS+=("dropdb --if-exists --force $DB; psql -X -q -c 'DROP ROLE IF EXISTS ab_deployer, ab_nobody'")
pg_q -c 'CREATE ROLE ab_deployer LOGIN; CREATE ROLE ab_nobody LOGIN' ||
  { fail "could not create the roles ab_deployer, ab_nobody"; scenario_end; }

# call <sql>: run in psql as the superuser, NOTICEs and errors included.
call() { psql -X -q -At -v VERBOSITY=default -d "$DB" -c "$1" 2>&1; }

# --- 1. 25 migrations in batches of 10: three batches, each its own transaction --------------
DIR=$(new_dir many)
printf 'CREATE TABLE ab_locks (version integer, locks integer);\n' >"$DIR/01_locks.sql"
for i in $(seq -w 2 25); do
  printf 'CREATE TABLE ab_%s (id integer PRIMARY KEY, v integer);\nCREATE INDEX ON ab_%s (v);\nINSERT INTO ab_locks SELECT %d, count(*) FROM pg_locks WHERE pid = pg_backend_pid();\n' \
    "$i" "$i" "$((10#$i))" >"$DIR/${i}_ab_$i.sql"
done
publish
OUT=$(call "CALL migrate_apply_batches('$DIR', NULL, 10)")
expect_line "batch 1" '^NOTICE:  migrate_apply_batches: batch 1 committed: 10 migrations \(10 in all\)$' "$OUT"
expect_line "batch 2" '^NOTICE:  migrate_apply_batches: batch 2 committed: 10 migrations \(20 in all\)$' "$OUT"
expect_line "batch 3" '^NOTICE:  migrate_apply_batches: batch 3 committed: 5 migrations \(25 in all\)$' "$OUT"
expect_line "the summary" '^NOTICE:  migrate_apply_batches: applied 25 migrations in 3 batches$' "$OUT"
expect_no_line "no error" '^ERROR' "$OUT"
expect_eq "history: rows, and transactions that wrote them" "25|3" \
  "$(pg_q -d "$DB" -F'|' -c 'SELECT count(*), count(DISTINCT xmin::text) FROM migrate_history')"
# locks grow within a batch and are let go of at each commit: the last migration of batch 2
# holds more than its first and than the first of batch 3 (each batch starts alike: the drift
# check at its start reads the catalogs)
expect_eq "locks held: grown within batches 1 and 2, fewer at the start of batch 3" "t|t|t" \
  "$(pg_q -d "$DB" -F'|' -c "WITH l AS (SELECT version, locks FROM ab_locks)
     SELECT (SELECT locks FROM l WHERE version = 10) > (SELECT locks FROM l WHERE version = 3),
            (SELECT locks FROM l WHERE version = 20) > (SELECT locks FROM l WHERE version = 11),
            (SELECT locks FROM l WHERE version = 21) < (SELECT locks FROM l WHERE version = 20)")"

# nothing left to do: no batch, no error
OUT=$(call "CALL migrate_apply_batches('$DIR')")
expect_eq "a second CALL" "NOTICE:  migrate_apply_batches: applied 0 migrations in 0 batches" "$OUT"

# --- 2. a target stops it --------------------------------------------------------------------
new_db DB2 || { fail "could not create the second database"; scenario_end; }
CLEANUP_HOOKS+=("dropdb --if-exists --force $DB2")
OUT=$(psql -X -q -At -d "$DB2" -c "CALL migrate_apply_batches('$DIR', '07', 3)" 2>&1)
expect_line "up to the target" '^NOTICE:  migrate_apply_batches: applied 7 migrations in 3 batches$' "$OUT"
expect_eq "the newest applied version" "07" \
  "$(pg_q -d "$DB2" -c 'SELECT max(version) FROM migrate_history')"

# --- 3. a failing batch: the batches before it stay, the error says where it stopped ---------
BAD=$(new_dir bad)
for i in $(seq -w 1 12); do printf 'CREATE TABLE ab_bad_%s (id integer);\n' "$i" >"$BAD/${i}_bad_$i.sql"; done
printf 'CREATE TABLE ab_bad_08b (id integer);\nINSERT INTO ab_bad_08b VALUES (1 / 0);\n' >"$BAD/08_bad_08.sql"
publish
new_db DB3 || { fail "could not create the third database"; scenario_end; }
CLEANUP_HOOKS+=("dropdb --if-exists --force $DB3")
OUT=$(psql -X -q -At -v VERBOSITY=default -d "$DB3" -c "CALL migrate_apply_batches('$BAD', NULL, 3)" 2>&1)
expect_line "the ERROR is the migration's" '^ERROR:  division by zero$' "$OUT"
expect_line "the CONTEXT names the migration, file and line" \
  '^CONTEXT:  migration 08 \(08_bad_08\.sql, line 2\)' "$OUT"
expect_line "and where the procedure stopped" \
  'migrate_apply_batches: stopped in batch 3; the 6 migrations of the 2 batches before it are applied and committed' "$OUT"
expect_eq "history holds the two batches" "6|06" \
  "$(pg_q -d "$DB3" -F'|' -c 'SELECT count(*), max(version) FROM migrate_history')"
expect_eq "nothing of the failed batch" 0 \
  "$(pg_q -d "$DB3" -c "SELECT count(*) FROM pg_class WHERE relname IN ('ab_bad_07', 'ab_bad_08b')")"

# --- 4. refusals that change nothing ---------------------------------------------------------
OUT=$(psql -X -q -At -v VERBOSITY=verbose -d "$DB2" -c "BEGIN" -c "CALL migrate_apply_batches('$DIR')" 2>&1)
expect_line "inside BEGIN: SQLSTATE 25001" \
  '^ERROR:  25001: migrate_apply_batches cannot run inside a transaction block$' "$OUT"
OUT=$(psql -X -q -At -v VERBOSITY=verbose -d "$DB" \
  -c "DO \$\$BEGIN PERFORM 1; CALL migrate_apply_batches('$DIR'); END\$\$" 2>&1)
expect_no_line "a top-level DO block may commit, so it runs" '^ERROR' "$OUT"
OUT=$(psql -X -q -At -v VERBOSITY=verbose -d "$DB2" -c "CALL migrate_apply_batches('$DIR', NULL, 0)" 2>&1)
expect_line "batch_size 0: SQLSTATE 22023" \
  '^ERROR:  22023: migrate_apply_batches: batch_size must be 1 or more, not 0$' "$OUT"
expect_eq "the second database is where it was" "7" \
  "$(pg_q -d "$DB2" -c 'SELECT count(*) FROM migrate_history')"

# --- 5. roles --------------------------------------------------------------------------------
OUT=$(psql -X -q -At -U ab_nobody -d "$DB2" -c "CALL migrate_apply_batches('$DIR')" 2>&1)
expect_line "a role without EXECUTE is refused" \
  '^ERROR:  permission denied for procedure migrate_apply_batches$' "$OUT"
pg_q -d "$DB2" -c "SELECT migrate_grant('ab_deployer')" >/dev/null || fail "migrate_grant failed"
pg_q -c "GRANT pg_read_server_files TO ab_deployer" >/dev/null
pg_q -d "$DB2" -c "GRANT CREATE ON SCHEMA public TO ab_deployer" >/dev/null
# the migrations it applies record into ab_locks, which the superuser's first batch created
pg_q -d "$DB2" -c "GRANT INSERT ON ab_locks TO ab_deployer" >/dev/null
OUT=$(psql -X -q -At -U ab_deployer -d "$DB2" -c "CALL migrate_apply_batches('$DIR', NULL, 10)" 2>&1)
expect_line "the deploy role applies the rest" \
  '^NOTICE:  migrate_apply_batches: applied 18 migrations in 2 batches$' "$OUT"
expect_eq "history of the second database" "25|deployer rows 18" \
  "$(pg_q -d "$DB2" -c "SELECT count(*) || '|deployer rows ' || count(*) FILTER (WHERE applied_by = 'ab_deployer') FROM migrate_history")"
OUT=$(pg_q -d "$DB2" -c "SELECT migrate_revoke('ab_deployer')" 2>&1)
OUT=$(psql -X -q -At -U ab_deployer -d "$DB2" -c "CALL migrate_apply_batches('$DIR')" 2>&1)
expect_line "migrate_revoke takes it back" \
  '^ERROR:  permission denied for procedure migrate_apply_batches$' "$OUT"

scenario_end
