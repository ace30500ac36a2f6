#!/usr/bin/env bash
# One psql session: a failing migrate_apply (an ERROR naming the migration, file and line),
# the same failure inside an explicit transaction block (rolled back), then the corrected
# folder applied in the same session succeeds. The backend is the same throughout, nothing of
# the failed calls remains, and the session goes on working.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin session_survives

new_db DB || { fail "could not create the database"; scenario_end; }
for variant in bad good; do
  d=$(new_dir "$variant")
  echo 'CREATE TABLE ss_accounts (id integer PRIMARY KEY, email text NOT NULL);' >"$d/1_create_accounts.sql"
  if [ "$variant" = bad ]; then
    printf -- '-- orders belong to accounts\nCREATE TABLE ss_orders (id integer PRIMARY KEY);\nINSERT INTO ss_no_such_table VALUES (1);\n' \
      >"$d/2_create_orders.sql"
  else
    printf -- '-- orders belong to accounts\nCREATE TABLE ss_orders (id integer PRIMARY KEY);\nINSERT INTO ss_orders VALUES (1);\n' \
      >"$d/2_create_orders.sql"
  fi
  echo 'CREATE INDEX ss_accounts_email ON ss_accounts (email);' >"$d/3_accounts_email_index.sql"
done
publish

# Deliberately without ON_ERROR_STOP: the session carries on after each ERROR.
cat >"$WORK/session.sql" <<'SQL'
SELECT pg_backend_pid() AS first_pid \gset
\echo step1
SELECT migrate_apply(:'bad');
\echo sqlstate1=:LAST_ERROR_SQLSTATE
SELECT count(*) AS history_rows, to_regclass('ss_accounts') IS NULL AS no_accounts FROM migrate_history;
\echo step2
BEGIN;
SELECT migrate_apply(:'bad');
\echo sqlstate2=:LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT string_agg(state, ',' ORDER BY version) AS states_after_failures FROM migrations_status(:'good');
\echo step3
SELECT migrate_apply(:'good') AS applied;
SELECT count(*) AS history_rows FROM migrate_history;
SELECT string_agg(state, ',' ORDER BY version) AS states FROM migrations_status(:'good');
SELECT count(*) AS orders FROM ss_orders;
SELECT pg_backend_pid() = :first_pid AS same_backend;
SELECT migrate_apply(:'good') AS applied_again;
SQL
PGOPTIONS='-c client_min_messages=warning' psql -X -At -v bad="$WORK/bad" -v good="$WORK/good" \
  -d "$DB" -f "$WORK/session.sql" >"$WORK/session.out" 2>"$WORK/session.err"
RC=$?
expect_eq "psql exit status (the script ran to its end)" 0 "$RC"
OUT=$(cat "$WORK/session.out")
ERR=$(cat "$WORK/session.err")
expect_eq "session output" "step1
sqlstate1=42P01
0|t
step2
BEGIN
sqlstate2=42P01
ROLLBACK
pending,pending,pending
step3
3
3
applied,applied,applied
1
t
0" "$OUT"
expect_eq "ERRORs reported" 2 "$(grep -c 'ERROR:  relation "ss_no_such_table" does not exist' <<<"$ERR")"
expect_eq "CONTEXT lines naming migration 2, its file, line and column" 2 \
  "$(grep -c '^CONTEXT:  migration 2 (2_create_orders.sql, line 3, column 13)$' <<<"$ERR")"
expect_no_line "nothing else went wrong" 'current transaction is aborted|FATAL|server closed' "$ERR"

scenario_end
