#!/usr/bin/env bash
# migrate_duplicates while another session drops and adds the table's primary key in a loop:
# the table is looked up and locked until the end of the transaction before its catalog entries
# are read, and every entry read is checked, so each call either waits for the DDL or reports a
# clean error; the server never crashes. (Before, the lock was let go before the primary key's
# catalog entry was read, and a concurrent DROP CONSTRAINT left a NULL that was dereferenced.)
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin unique_ddl_race

new_db DB || { fail "could not create the database"; scenario_end; }
pg_q -d "$DB" -c "CREATE TABLE race (id integer, email text, CONSTRAINT race_pkey PRIMARY KEY (id));
               INSERT INTO race SELECT g, 'e' || (g % 50) FROM generate_series(1, 200) g;" ||
  { fail "could not create the table"; scenario_end; }

ROUNDS=1500
for ((i = 0; i < ROUNDS; i++)); do
  echo "ALTER TABLE race DROP CONSTRAINT race_pkey;"
  echo "ALTER TABLE race ADD CONSTRAINT race_pkey PRIMARY KEY (id);"
done >"$WORK/ddl.sql"
for ((i = 0; i < ROUNDS; i++)); do
  echo "SELECT count(*) FROM migrate_duplicates('race', 'email');"
done >"$WORK/calls.sql"

# the DDL loop in a second session, the calls in this one, at the same time
bg DDL psql -X -q -At -d "$DB" -f "$WORK/ddl.sql" >"$WORK/ddl.out" 2>"$WORK/ddl.err"
psql -X -q -At -d "$DB" -f "$WORK/calls.sql" >"$WORK/calls.out" 2>"$WORK/calls.err"
CALLS_RC=$?
wait_bg DDL_RC "$DDL" 120

expect_eq "the session calling migrate_duplicates ended normally" 0 "$CALLS_RC"
expect_eq "the DDL session ended normally" 0 "$DDL_RC"
expect_eq "the server still answers" "ok" "$(pg_q -d "$DB" -c "SELECT 'ok'" 2>&1)"
ERRS=$(cat "$WORK/calls.err" "$WORK/ddl.err")
expect_no_line "no session lost its server" 'terminated abnormally|server closed the connection|connection to server .* lost|crash' "$ERRS"
expect_no_line "no internal error" 'cache lookup failed|catalog entry|XX000' "$ERRS"
# every call answered: 50 groups of 4 rows each time
expect_eq "every call answered" "$ROUNDS" "$(grep -c '^50$' "$WORK/calls.out")"
expect_eq "the primary key is back" "race_pkey" \
  "$(pg_q -d "$DB" -c "SELECT conname FROM pg_constraint WHERE conrelid = 'race'::regclass AND contype = 'p'")"

scenario_end
