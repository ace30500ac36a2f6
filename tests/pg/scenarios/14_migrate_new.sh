#!/usr/bin/env bash
# migrate_new on PostgreSQL: a superuser creates a new migration's files in a server folder (in
# the folder's layout), and they apply; a role that may read but not write server files is
# refused before anything is created; NULL says what to insert into migrate_scripts instead; a
# deploy role and a role without grants cannot call it, and both can call migrate_help and
# migrate_version.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin migrate_new

ROLE="mig_new_reader_$$"
CLEANUP_HOOKS+=("psql -X -q -c 'DROP ROLE IF EXISTS $ROLE'")
new_db DB || { fail "could not create the database"; scenario_end; }
pg_q -c "CREATE ROLE $ROLE LOGIN IN ROLE pg_read_server_files" || fail "could not create the role"
pg_q -d "$DB" -c "GRANT EXECUTE ON FUNCTION migrate_new(text, text, text) TO $ROLE" || fail "grant failed"

DIR=$(new_dir newm)
printf -- '-- migrate:up\nCREATE TABLE n_a (x integer);\n-- migrate:down\nDROP TABLE n_a;\n' >"$DIR/20240101000000_a.sql"
publish
chmod 777 "$DIR" # the server's OS user creates the files

OUT=$(pg_q -d "$DB" -c "SELECT migrate_new('$DIR', 'add_users')" 2>&1) || fail "migrate_new failed: $OUT"
expect_line "the path of the new file, in the folder's layout (sections)" "^$DIR/20[0-9]{12}_add_users\.sql$" "$OUT"
[ -f "$OUT" ] && expect_eq "its text" "-- migrate:up

-- migrate:down" "$(cat "$OUT")"
expect_eq "the folder applies, the new migration with it" "2" \
  "$(PGOPTIONS='-c client_min_messages=warning' pg_q -d "$DB" -c "SELECT migrate_apply('$DIR')")"

# may read server files, may not write them: refused, nothing created
before=$(find "$DIR" -type f | sort)
OUT=$(psql -X -q -At -d "$DB" -U "$ROLE" -c "SELECT migrate_new('$DIR', 'sneaky')" 2>&1)
expect_line "a role that may not write server files" "permission denied for function migrate_new" "$OUT"
expect_line "the reason" "may not write server files" "$OUT"
expect_eq "files after the refusal" "$before" "$(find "$DIR" -type f | sort)"

# NULL: the hint gives the INSERT into migrate_scripts
OUT=$(pg_q -d "$DB" -c "SELECT migrate_new(NULL, 'stored')" 2>&1)
expect_line "NULL folder" "a NULL folder means the migrate_scripts table, which holds no files" "$OUT"
expect_line "its hint" "INSERT INTO migrate_scripts \(version, name, up_sql, down_sql\) VALUES \('20[0-9]{12}', 'stored'" "$OUT"

# a deploy role (migrate_grant) is not given migrate_new, a role without any grant neither; both
# may list the functions and read the release
DEPLOY="mig_new_deployer_$$"
CLEANUP_HOOKS+=("psql -X -q -d $DB -c 'SELECT migrate_revoke(''$DEPLOY'')'; psql -X -q -c 'DROP ROLE IF EXISTS $DEPLOY'")
pg_q -c "CREATE ROLE $DEPLOY LOGIN" || fail "could not create the deploy role"
pg_q -d "$DB" -c "SELECT migrate_grant('$DEPLOY', 'deploy')" >/dev/null || fail "migrate_grant failed"
for r in "$DEPLOY" "$ROLE"; do
  [ "$r" = "$ROLE" ] && pg_q -d "$DB" -c "REVOKE EXECUTE ON FUNCTION migrate_new(text, text, text) FROM $ROLE"
  OUT=$(psql -X -q -At -d "$DB" -U "$r" -c "SELECT migrate_new(NULL, 'x')" 2>&1)
  expect_line "migrate_new as $r" "permission denied for function migrate_new" "$OUT"
  expect_eq "migrate_help as $r" "21" \
    "$(psql -X -q -At -d "$DB" -U "$r" -c "SELECT count(*) FROM migrate_help() WHERE engines <> 'sqlite'" 2>&1)"
  expect_eq "migrate_version as $r" "$(pg_q -d "$DB" -c "SELECT extversion FROM pg_extension WHERE extname = 'migrate'")" \
    "$(psql -X -q -At -d "$DB" -U "$r" -c "SELECT migrate_version()" 2>&1)"
done

# PUBLIC cannot call it
expect_eq "PUBLIC's right to call migrate_new" "f" \
  "$(pg_q -d "$DB" -c "SELECT has_function_privilege('public', 'migrate_new(text, text, text)', 'EXECUTE')")"

scenario_end
