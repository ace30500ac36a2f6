#!/usr/bin/env bash
# Progress a DBA can see: a NOTICE before each migration starts ("applying 2/3: ..."), the
# migration and statement running shown in pg_stat_activity.query to another session while a
# long statement runs, the caller's own query shown again after, and a statement that ran long
# named in a NOTICE as it ends.
# shellcheck disable=SC2317 # functions called through wait_until
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin progress

new_db DB || { fail "could not create the database"; scenario_end; }
DIR=$(new_dir progress)
printf 'CREATE TABLE pr_one (id integer);\n' >"$DIR/1_one.sql"
printf 'CREATE TABLE pr_two (id integer);\n' >"$DIR/2_two.sql"
publish

# --- 1. a NOTICE before each migration, numbered within the call --------------------------------
OUT=$(psql -X -q -At -d "$DB" -c "SELECT migrate_apply('$DIR')" 2>&1)
expect_line "the first migration is announced" '^NOTICE:  applying 1/2: 1 one \(1_one.sql\)$' "$OUT"
expect_line "the second migration is announced" '^NOTICE:  applying 2/2: 2 two \(2_two.sql\)$' "$OUT"
expect_eq "announced before it runs, then applied" "applying 1/2|applied 1|applying 2/2|applied 2" \
  "$(sed -En 's/^NOTICE:  (applying [0-9]\/[0-9]|applied [0-9]).*/\1/p' <<<"$OUT" | paste -sd'|')"

# --- 2. another session sees the migration and statement in pg_stat_activity -------------------
printf 'CREATE TABLE pr_three (id integer);\nSELECT pg_sleep(3.5);\n' >"$DIR/3_slow.up.sql"
printf 'DROP TABLE pr_three;\n' >"$DIR/3_slow.down.sql"
publish
OUT3=$WORK/out3
bg CALLER env PGAPPNAME=pr_caller psql -X -q -At -d "$DB" \
  -c "SELECT migrate_apply('$DIR')" >"$OUT3" 2>&1
shown() {
  SHOWN=$(pg_q -d "$DB" -c "SELECT query FROM pg_stat_activity WHERE application_name = 'pr_caller'")
  grep -q '^migrate: applying' <<<"$SHOWN"
}
wait_until 30 shown || fail "pg_stat_activity never showed the migration: [$SHOWN]"
expect_eq "pg_stat_activity.query names the migration and statement" \
  "migrate: applying 1/1: 3 slow (3_slow.up.sql), statement 2 at line 2: SELECT pg_sleep(3.5)" "$SHOWN"
wait_bg STATUS "$CALLER" 60
OUT=$(cat "$OUT3")
expect_eq "the call ends well ($OUT)" 0 "$STATUS"
expect_line "the long statement is named as it ends" \
  '^NOTICE:  statement at line 2 ran for [0-9]+\.[0-9] s: SELECT pg_sleep\(3\.5\)$' "$OUT"

# --- 3. after the call its session shows the caller's query again ------------------------------
pg_q -d "$DB" -c "SELECT migrate_rollback('$DIR', 1)" >/dev/null 2>&1
AFTER=$(pg_q -d "$DB" -F'|' -c "WITH a AS MATERIALIZED (SELECT migrate_apply('$DIR') AS n)
  SELECT (SELECT n FROM a), (SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid())" 2>/dev/null)
expect_line "the call applied the migration again" '^1\|WITH a AS MATERIALIZED' "$AFTER"

scenario_end
