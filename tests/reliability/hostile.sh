#!/usr/bin/env bash
# Hostile input: a table of bad inputs, each run on BOTH engines. A bad input must end in a clear
# error (naming the file where there is one) and change nothing: a dump of the schema, the data
# and migrate_history before and after the call must be identical. A few inputs that look hostile
# but are valid (a 100-digit version, names with spaces, quotes, newlines or non-ASCII, 20,000
# files, empty and comments-only scripts) must simply work.
#
# Every case starts from a database where the base folder (1_users, 2_teams) is applied, and its
# folder holds the base migrations, a valid pending migration 3_pending.sql (so "nothing
# changed" means it was not applied either) and the hostile part.
#
# A case is a function hc_<name> (run in the order written) that fills the folder $F and sets:
#   CALL      the SQL, with %D for the folder as an SQL literal (default: SELECT migrate_apply(%D))
#   EXPECT    extended regex the error must match (EXPECT_SQLITE / EXPECT_PG per engine)
#   GOOD=1    a valid input: the call must succeed printing OUT (OUT_SQLITE / OUT_PG), and then
#             CHECK_SQL must print CHECK_OUT
#   DIR       the folder to pass instead of $F
#   UNPRIV=1  on SQLite, run as an unprivileged user (root reads everything)
#   KNOWN_SQLITE / KNOWN_PG  a known bug (see the report): a mismatch on that engine is reported
#             as "# TODO known bug" instead of a failure
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
. "$HERE/lib.sh"

W="$REL_WORK/hostile"
rm -rf "$W"
mkdir -p "$W"
chmod 755 "$W"
cd "$W" || exit 1

PGDB=rel_hostile
PGBASE=rel_hostile_base
PGGOOD=rel_hostile_good

# --- the base -----------------------------------------------------------------------------------

make_base() { # make_base DIR
  mkdir -p "$1"
  cat >"$1/1_users.sql" <<'SQL'
-- migrate:up
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);
INSERT INTO users (id, email, name) VALUES (1, 'a@x.com', 'Ann'), (2, 'b@x.com', 'Bob'), (3, 'a@x.com', 'Ann again');
CREATE TABLE plain (id INTEGER PRIMARY KEY, code TEXT);
INSERT INTO plain (id, code) VALUES (1, 'p1'), (2, 'p2');

-- migrate:down
DROP TABLE plain;
DROP TABLE users;
SQL
  printf 'CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT);\nINSERT INTO teams VALUES (1, %s);\n' "'core'" >"$1/2_teams.up.sql"
  printf 'DROP TABLE teams;\n' >"$1/2_teams.down.sql"
}

make_base "$W/base"
printf 'CREATE TABLE pending_t (id INTEGER);\n' >"$W/pending.sql"
chmod -R a+rX "$W"

UNPRIV_USER=
if [ "$(id -u)" -eq 0 ]; then
  if command -v runuser >/dev/null && id nobody >/dev/null 2>&1; then
    UNPRIV_USER=nobody
  fi
fi

# SQL literal of a text
lit() {
  local s=${1//\'/\'\'}
  printf "'%s'" "$s"
}

# --- the engines --------------------------------------------------------------------------------

sqlite_setup() {
  rm -f base.db
  local out
  out=$("$SQLITE3" -batch -bail -cmd ".load $MIGRATE_SO" base.db "SELECT migrate_apply($(lit "$W/base"))" 2>&1)
  [ "$out" = 2 ] || { echo "sqlite base: $out"; return 1; }
}

pg_setup() {
  pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS $PGDB" -c "DROP DATABASE IF EXISTS $PGGOOD" \
    -c "DROP DATABASE IF EXISTS $PGBASE" -c "CREATE DATABASE $PGBASE" >/dev/null || return 1
  local out
  out=$(pg_q_quiet -d "$PGBASE" -c 'CREATE EXTENSION migrate' -c "SELECT migrate_apply($(lit "$W/base"))" 2>&1)
  [ "$out" = 2 ] || { echo "pg base: $out"; return 1; }
  pg_q_quiet -d postgres -c "CREATE DATABASE $PGDB TEMPLATE $PGBASE" -c "CREATE DATABASE $PGGOOD TEMPLATE $PGBASE" >/dev/null
}

PG_LAST_DUMP=

# Put the database of the valid cases back to the base: what the base did not create goes, and
# the history rows after the base's.
pg_reset_good() {
  pg_q_quiet -d "$PGGOOD" >/dev/null <<'SQL'
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.relname FROM pg_class c
            WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
              AND c.relname NOT IN ('users', 'plain', 'teams')
              AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') LOOP
    EXECUTE format('DROP TABLE %I CASCADE', r.relname);
  END LOOP;
  DELETE FROM migrate_history WHERE id > 2;
END
$$;
SQL
}

sqlite_dump() { "$SQLITE3" -batch "$1" .dump 2>&1; }

pg_dump_db() {
  pg_q_quiet -d "$1" 2>&1 <<'SQL'
SELECT c.relname, c.relkind, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
  FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1, 3;
SELECT pg_get_indexdef(indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1;
SELECT conrelid::regclass, conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2;
SELECT format('SELECT %L, t::text FROM %I t ORDER BY 2', relname, relname)
  FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY relname
\gexec
SQL
}

# run_sqlite SQL DB [as-user]: sets OUT ERR RC
run_sqlite() {
  local sql=$1 db=$2 user=${3:-}
  local cmd=("$SQLITE3" -batch -bail -cmd ".load $MIGRATE_SO" "$db" "$sql")
  if [ -n "$user" ]; then
    cmd=(runuser -u "$user" -- "${cmd[@]}")
  fi
  timeout 120 "${cmd[@]}" >"$W/out" 2>"$W/err"
  RC=$?
  OUT=$(cat "$W/out")
  ERR=$(cat "$W/err")
}

run_pg() {
  local sql=$1 db=$2
  PGOPTIONS='-c client_min_messages=warning' timeout 120 \
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$sql" >"$W/out" 2>"$W/err"
  RC=$?
  OUT=$(cat "$W/out")
  ERR=$(cat "$W/err")
}

# --- the cases ----------------------------------------------------------------------------------
# Helpers for the cases: bytes FILE PRINTF-FORMAT writes raw bytes.
# shellcheck disable=SC2059 # the format is the bytes
bytes() { printf -- "$2" >"$F/$1"; }

# Deterministic pseudo-random bytes: N blocks of 32 from a SHA-256 chain.
random_bytes() {
  local n=$1 i h=$REL_SEED
  for ((i = 0; i < n; i++)); do
    h=$(printf '%s' "$h" | sha256sum | cut -c1-64)
    # shellcheck disable=SC2059 # the format is the bytes
    printf "$(printf '%s' "$h" | sed 's/../\\x&/g')"
  done
}

hc_binary_png() {
  bytes 5_logo.sql '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10'
  EXPECT='5_logo\.sql: line 1: (contains a NUL byte|is not valid UTF-8 \(byte 0x89 at offset 0\))'
}
hc_file_name_not_utf8() {
  printf 'CREATE TABLE latin1_name (a INTEGER);\n' >"$F/5_caf$(printf '\xe9').sql"
  EXPECT='5_caf.*\.sql.*(UTF-8|encoding)|(UTF-8|encoding).*5_caf'
  # the name is stored as it is: on PostgreSQL invalid UTF-8 in a text column (see the report)
}
hc_random_bytes() {
  random_bytes 128 >"$F/5_random.sql"
  EXPECT='5_random\.sql: line [0-9]+: (contains a NUL byte|is not valid UTF-8)'
}
hc_latin1() {
  bytes 5_latin1.sql "CREATE TABLE cafe (name TEXT DEFAULT 'caf\xe9');\n"
  EXPECT='5_latin1\.sql: line 1: is not valid UTF-8 \(byte 0xE9'
}
hc_overlong_utf8() {
  bytes 5_overlong.sql "SELECT 1;\nSELECT '\xc0\xaf';\n"
  EXPECT='5_overlong\.sql: line 2: is not valid UTF-8 \(byte 0xC0'
}
hc_surrogate_utf8() {
  bytes 5_surrogate.sql "SELECT '\xed\xa0\x80';\n"
  EXPECT='5_surrogate\.sql: line 1: is not valid UTF-8'
}
hc_beyond_unicode() {
  bytes 5_beyond.sql "SELECT '\xf4\x90\x80\x80';\n"
  EXPECT='5_beyond\.sql: line 1: is not valid UTF-8'
}
hc_truncated_utf8() {
  bytes 5_truncated.sql "SELECT 'euro \xe2\x82"
  EXPECT='5_truncated\.sql: line 1: is not valid UTF-8'
}
hc_utf16() {
  bytes 5_utf16.sql '\xff\xfeS\x00E\x00L\x00E\x00C\x00T\x00 \x001\x00;\x00'
  EXPECT='5_utf16\.sql: line 1: (contains a NUL byte|is not valid UTF-8)'
}
hc_nul_inside_script() {
  bytes 5_nul.sql "CREATE TABLE n1 (a INTEGER);\nINSERT INTO n1 VALUES (1)\x00;\n"
  EXPECT='5_nul\.sql: line 2: contains a NUL byte'
}
hc_nul_in_down_file() {
  printf 'CREATE TABLE n2 (a INTEGER);\n' >"$F/5_n2.up.sql"
  bytes 5_n2.down.sql "DROP TABLE n2;\x00\n"
  EXPECT='5_n2\.down\.sql: line 1: contains a NUL byte'
}
hc_nul_in_down_section() {
  bytes 5_n3.sql "-- migrate:up\nCREATE TABLE n3 (a INTEGER);\n-- migrate:down\nDROP \x00TABLE n3;\n"
  EXPECT='5_n3\.sql: line 4: contains a NUL byte'
}
hc_script_of_50_mib() {
  cp "$W/huge.sql" "$F/5_huge.sql"
  EXPECT='5_huge\.sql: is 52428800 bytes; scripts over 32 MiB are refused'
}
hc_duplicate_versions() {
  printf 'CREATE TABLE d1 (a INTEGER);\n' >"$F/5_first.sql"
  printf 'CREATE TABLE d2 (a INTEGER);\n' >"$F/5_second.sql"
  EXPECT='duplicate version 5: 5_first\.sql and 5_second\.sql'
}
hc_duplicate_by_leading_zeros() {
  printf 'CREATE TABLE d1 (a INTEGER);\n' >"$F/005_first.sql"
  printf 'CREATE TABLE d2 (a INTEGER);\n' >"$F/5_second.sql"
  EXPECT='duplicate version 0?0?5: (005_first\.sql and 5_second\.sql|5_second\.sql and 005_first\.sql)'
}
hc_duplicate_across_layouts() {
  printf 'CREATE TABLE d1 (a INTEGER);\n' >"$F/5_first.up.sql"
  printf 'CREATE TABLE d2 (a INTEGER);\n' >"$F/V5__second.sql"
  EXPECT='duplicate version 5: (5_first\.up\.sql and V5__second\.sql|V5__second\.sql and 5_first\.up\.sql)'
}
hc_duplicate_folder_and_file() {
  mkdir "$F/5_first"
  printf 'CREATE TABLE d1 (a INTEGER);\n' >"$F/5_first/up.sql"
  printf 'CREATE TABLE d2 (a INTEGER);\n' >"$F/5_second.sql"
  EXPECT='duplicate version 5: (5_first/up\.sql and 5_second\.sql|5_second\.sql and 5_first/up\.sql)'
}
hc_duplicate_semver() {
  printf 'SELECT 1;\n' >"$F/v5.1.0_first.sql"
  printf 'SELECT 2;\n' >"$F/5.1_second.sql"
  EXPECT='duplicate version 5\.1(\.0)?: (v5\.1\.0_first\.sql and 5\.1_second\.sql|5\.1_second\.sql and v5\.1\.0_first\.sql)'
}
hc_sql_file_without_version() {
  printf 'CREATE TABLE nv (a INTEGER);\n' >"$F/create_users.sql"
  EXPECT='create_users\.sql: the file name has no version'
}
hc_up_file_without_version() {
  printf 'CREATE TABLE nv (a INTEGER);\n' >"$F/users.up.sql"
  EXPECT='users\.up\.sql: the file name has no version'
}
hc_digits_glued_to_name() {
  printf 'CREATE TABLE nv (a INTEGER);\n' >"$F/2fa_setup.sql"
  EXPECT='2fa_setup\.sql: the file name has no version'
}
hc_name_with_newline_and_no_version() {
  printf 'CREATE TABLE nv (a INTEGER);\n' >"$F/notes
about users.sql"
  EXPECT='notes.about users\.sql: the file name has no version'
}
hc_repeatable_migration() {
  printf 'CREATE VIEW v AS SELECT 1;\n' >"$F/R__views.sql"
  EXPECT='R__views\.sql: repeatable migrations \(R__\) are not supported'
}
hc_down_without_up() {
  printf 'DROP TABLE nothing;\n' >"$F/5_orphan.down.sql"
  EXPECT='5_orphan\.down\.sql: down script of version 5 has no up script'
}
hc_folder_migration_without_up() {
  mkdir "$F/5_folder"
  printf 'DROP TABLE nothing;\n' >"$F/5_folder/down.sql"
  EXPECT='5_folder/: a migration folder needs an up\.sql'
}
hc_second_up_marker() {
  printf -- '-- migrate:up\nCREATE TABLE s1 (a INTEGER);\n-- migrate:up\nCREATE TABLE s2 (a INTEGER);\n' >"$F/5_twice.sql"
  EXPECT='5_twice\.sql: line 3: a second up section marker'
}
hc_sql_before_first_marker() {
  printf -- 'CREATE TABLE s0 (a INTEGER);\n-- migrate:up\nCREATE TABLE s1 (a INTEGER);\n' >"$F/5_early.sql"
  EXPECT='5_early\.sql: line 1: SQL before the first section marker belongs to no section'
}
hc_down_marker_only() {
  printf -- '-- migrate:down\nDROP TABLE s1;\n' >"$F/5_downonly.sql"
  EXPECT='5_downonly\.sql: has a down section marker but no up section marker'
}
hc_folder_that_does_not_exist() {
  DIR="$W/no/such/folder"
  EXPECT='migrations folder ".*/no/such/folder" does not exist'
}
hc_folder_that_is_a_file() {
  DIR="$F/1_users.sql"
  EXPECT='migrations folder ".*/1_users\.sql" is not a folder'
}
hc_folder_unreadable() {
  chmod 000 "$F"
  UNPRIV=1
  EXPECT='migrations folder ".*" cannot be opened: Permission denied'
}
hc_file_unreadable() {
  printf 'CREATE TABLE secret (a INTEGER);\n' >"$F/5_secret.sql"
  chmod 000 "$F/5_secret.sql"
  UNPRIV=1
  EXPECT='5_secret\.sql: cannot be read: Permission denied'
}
hc_down_file_unreadable() {
  printf 'CREATE TABLE secret (a INTEGER);\n' >"$F/5_secret.up.sql"
  printf 'DROP TABLE secret;\n' >"$F/5_secret.down.sql"
  chmod 000 "$F/5_secret.down.sql"
  UNPRIV=1
  EXPECT='5_secret\.down\.sql: cannot be read: Permission denied'
}
hc_symlink_loop() {
  ln -s 5_loop.sql "$F/5_loop.sql"
  EXPECT='5_loop\.sql: is a symbolic link loop'
}
hc_symlink_loop_of_two() {
  ln -s 5_b.sql "$F/5_a.sql"
  ln -s 5_a.sql "$F/5_b.sql"
  EXPECT='5_a\.sql: is a symbolic link loop'
}
hc_folder_is_a_symlink_loop() {
  ln -s "$W/loopdir" "$W/loopdir" 2>/dev/null
  DIR="$W/loopdir"
  EXPECT='migrations folder ".*/loopdir" cannot be opened: Too many levels of symbolic links'
}
hc_dangling_symlink() {
  ln -s "$W/nowhere.sql" "$F/5_gone.sql"
  EXPECT='5_gone\.sql: is a dangling symbolic link'
}
hc_fifo() {
  mkfifo "$F/5_fifo.sql"
  EXPECT='5_fifo\.sql: is not a regular file'
}
hc_many_files_and_one_bad_name() {
  many_files 19990
  printf 'SELECT 1;\n' >"$F/users_without_version.sql"
  EXPECT='users_without_version\.sql: the file name has no version'
}
# The core refuses a script that ends inside a quote or a comment before any engine sees it, so
# both engines say the same thing, naming the file and the line where the unclosed part starts.
hc_ends_inside_a_string() {
  printf "CREATE TABLE q1 (a TEXT);\nINSERT INTO q1 VALUES ('never closed);\n" >"$F/5_string.sql"
  EXPECT='5_string\.sql: line 2: the script ends inside the string literal that starts here'
}
hc_ends_inside_a_block_comment() {
  printf "CREATE TABLE q2 (a TEXT);\n/* never closed\nINSERT INTO q2 VALUES (1);\n" >"$F/5_comment.sql"
  EXPECT='5_comment\.sql: line 2: the script ends inside the block comment that starts here'
}
hc_ends_inside_a_quoted_identifier() {
  printf 'CREATE TABLE "never closed (a TEXT);\n' >"$F/5_ident.sql"
  EXPECT='5_ident\.sql: line 1: the script ends inside the quoted identifier that starts here'
}
hc_failing_statement_after_good_ones() {
  printf 'CREATE TABLE g1 (a INTEGER);\n' >"$F/5_good.sql"
  printf 'CREATE TABLE g2 (a INTEGER);\nINSERT INTO g2 VALUES (1);\nINSERT INTO no_such_table VALUES (1);\n' >"$F/6_bad.sql"
  EXPECT_SQLITE='migration 6 \(6_bad\.sql, line 3\): no such table: no_such_table'
  EXPECT_PG='relation "no_such_table" does not exist(.|
)*migration 6 \(6_bad\.sql, line 3, column 13\)'
}
hc_transaction_control_in_script() {
  printf 'CREATE TABLE tc (a INTEGER);\nCOMMIT;\nCREATE TABLE tc2 (a INTEGER);\n' >"$F/5_commit.sql"
  EXPECT='5_commit\.sql(.|
)*(transaction control|cannot run inside a transaction|not allowed)|(transaction control|not allowed)(.|
)*5_commit\.sql'
}
hc_down_script_that_fails() {
  printf 'DROP TABLE no_such_table;\n' >"$F/2_teams.down.sql"
  CALL='SELECT migrate_rollback(%D)'
  EXPECT_SQLITE='migration 2 \(2_teams\.down\.sql, line 1\): no such table: no_such_table'
  EXPECT_PG='table "no_such_table" does not exist(.|
)*migration 2 \(2_teams\.down\.sql, line 1\)'
}
hc_second_down_script_fails() {
  # 2 reverts fine, then 1's down fails: the revert of 2 is undone too (migrate_to '0' reverts both)
  sed -i 's/^DROP TABLE users;$/DROP TABLE users_typo;/' "$F/1_users.sql"
  CALL="SELECT migrate_to(%D, '0')"
  EXPECT_SQLITE='migration 1 \(1_users\.sql, line [0-9]+\): no such table: users_typo'
  EXPECT_PG='table "users_typo" does not exist(.|
)*migration 1 \(1_users\.sql, line [0-9]+\)'
}
hc_rollback_with_emptied_down_script() {
  printf -- '-- nothing here any more\n' >"$F/2_teams.down.sql"
  CALL='SELECT migrate_rollback(%D)'
  EXPECT='2_teams\.up\.sql: migration 2 has no down script, so it cannot be reverted'
}
hc_rollback_negative_steps() {
  CALL='SELECT migrate_rollback(%D, -1)'
  EXPECT='migrate_rollback: steps must be a whole number, 0 or more'
}
hc_target_not_a_version() {
  CALL="SELECT migrate_apply(%D, 'latest')"
  EXPECT='target "latest" is not a version'
}
hc_target_with_sql_injection() {
  CALL="SELECT migrate_apply(%D, '3''); DROP TABLE users; --')"
  EXPECT="target \"3'\\); DROP TABLE users; --\" is not a version"
}
hc_target_names_no_migration() {
  # one digit short of a real version would sort below every migration: refused, not a revert
  CALL="SELECT migrate_to(%D, '0.5')"
  EXPECT='target 0.5 is not the version of any migration'
}
hc_rollback_of_everything() {
  CALL='SELECT migrate_rollback(%D, 99)'
  EXPECT='would revert every applied migration'
}
hc_applied_migration_modified() {
  printf 'CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT, extra TEXT);\n' >"$F/2_teams.up.sql"
  EXPECT='2_teams\.up\.sql: migration 2 was modified after it was applied'
}
hc_applied_migration_missing() {
  rm "$F/2_teams.up.sql" "$F/2_teams.down.sql"
  EXPECT='2_teams\.up\.sql: migration 2 was applied but its file is missing from the folder'
}
hc_pending_migration_out_of_order() {
  printf 'CREATE TABLE ooo (a INTEGER);\n' >"$F/1.5_late.sql"
  EXPECT='1\.5_late\.sql: migration 1\.5 is out of order'
}
hc_folder_path_too_long() {
  DIR="$W/$(printf 'x%.0s' $(seq 1 5000))"
  EXPECT='migrations folder ".*" (cannot be opened: File name too long|does not exist)'
}
hc_folder_path_with_newline() {
  DIR="$W/no
such"
  EXPECT='migrations folder ".*no.such" does not exist'
}
hc_folder_path_empty() {
  DIR=
  EXPECT='no migrations folder given|needs a migrations folder'
}
hc_add_unique_missing_table() {
  CALL="SELECT migrate_add_unique('no_such_table', 'email')"
  EXPECT='table "no_such_table" does not exist'
}
hc_add_unique_missing_column() {
  CALL="SELECT migrate_add_unique('users', 'no_such_column')"
  EXPECT='column "no_such_column" does not exist in table "users"'
}
hc_add_unique_hostile_table() {
  CALL="SELECT migrate_add_unique('users\"; DROP TABLE plain; --', 'email')"
  EXPECT='table "users"; DROP TABLE plain; --" does not exist'
}
hc_add_unique_hostile_columns() {
  CALL="SELECT migrate_add_unique('plain', 'code); DROP TABLE plain; --')"
  EXPECT='column "code\); DROP TABLE plain; --" does not exist in table "plain"'
}
hc_add_unique_quoted_column_injection() {
  CALL="SELECT migrate_add_unique('plain', 'code\"\") ; DROP TABLE plain; --')"
  EXPECT='column "code""\) ; DROP TABLE plain; --" does not exist in table "plain"'
}
hc_add_unique_empty_columns() {
  CALL="SELECT migrate_add_unique('plain', ' , ')"
  EXPECT='column list " , " has an empty column name'
}
hc_add_unique_repeated_column() {
  CALL="SELECT migrate_add_unique('plain', 'code, code')"
  EXPECT='column list "code, code" names column "code" twice'
}
hc_add_unique_bad_on_duplicate() {
  CALL="SELECT migrate_add_unique('plain', 'code', NULL, 'drop_everything')"
  EXPECT="on_duplicate must be 'fail', 'keep_first', 'keep_last' or 'merge', not 'drop_everything'"
}
hc_add_unique_over_duplicates() {
  CALL="SELECT migrate_add_unique('users', 'email')"
  EXPECT="cannot make users \\(email\\) unique: 1 duplicate group, 2 rows; nothing was changed(.|
)*email 'a@x\\.com' appears 2 times"
}
# --- valid inputs that look hostile -------------------------------------------------------------

hc_valid_version_of_100_digits() {
  GOOD=1
  V100="1$(printf '0%.0s' $(seq 1 99))"
  printf 'CREATE TABLE hundred (a INTEGER);\n' >"$F/${V100}_hundred_digits.sql"
  OUT=2
  CHECK_SQL="SELECT version FROM migrate_history WHERE name = 'hundred_digits'"
  CHECK_OUT=$V100
}
hc_valid_name_with_spaces() {
  GOOD=1
  printf 'CREATE TABLE spaced (a INTEGER);\n' >"$F/5_add spaced table.sql"
  OUT=2
  CHECK_SQL="SELECT name FROM migrate_history WHERE version = '5'"
  CHECK_OUT='add spaced table'
}
hc_valid_name_with_quotes() {
  GOOD=1
  printf 'CREATE TABLE quoted (a INTEGER);\n' >"$F/5_it's \"quoted\"; DROP TABLE users; --.sql"
  OUT=2
  CHECK_SQL="SELECT name || '|' || (SELECT count(*) FROM users) FROM migrate_history WHERE version = '5'"
  CHECK_OUT="it's \"quoted\"; DROP TABLE users; --|3"
}
hc_valid_name_non_ascii() {
  GOOD=1
  printf 'CREATE TABLE accents (a INTEGER);\n' >"$F/5_café_naïve_日本語.sql"
  OUT=2
  CHECK_SQL="SELECT name FROM migrate_history WHERE version = '5'"
  CHECK_OUT='café_naïve_日本語'
}
hc_valid_name_with_newline() {
  GOOD=1
  printf 'CREATE TABLE nl (a INTEGER);\n' >"$F/5_two
lines.sql"
  OUT=2
  CHECK_SQL="SELECT replace(name, char(10), '\\n') FROM migrate_history WHERE version = '5'"
  CHECK_SQL_PG="SELECT replace(name, chr(10), '\\n') FROM migrate_history WHERE version = '5'"
  CHECK_OUT='two\nlines'
}
hc_valid_empty_script() {
  GOOD=1
  : >"$F/5_empty.sql"
  OUT=2
  CHECK_SQL="SELECT count(*) FROM migrate_history WHERE version = '5' AND success"
  CHECK_OUT=1
}
hc_valid_comments_only_script() {
  GOOD=1
  printf -- '-- nothing to do yet\n/* really\n   nothing */\n' >"$F/5_comments.sql"
  OUT=2
  CHECK_SQL="SELECT count(*) FROM migrate_history WHERE version = '5' AND success"
  CHECK_OUT=1
}
hc_valid_bom_and_crlf() {
  GOOD=1
  printf '\xef\xbb\xbfCREATE TABLE crlf (a INTEGER);\r\nINSERT INTO crlf VALUES (1);\r\n' >"$F/5_windows.sql"
  OUT=2
  CHECK_SQL="SELECT checksum FROM migrate_history WHERE version = '5'"
  CHECK_OUT=$(printf 'CREATE TABLE crlf (a INTEGER);\nINSERT INTO crlf VALUES (1);\n' | sha256sum | cut -c1-64)
}
hc_valid_20000_files() {
  GOOD=1
  many_files 19994
  local i
  for ((i = 5; i <= 9; i++)); do
    printf 'CREATE TABLE many_%s (a INTEGER);\n' "$i" >"$F/${i}_many_$i.sql"
  done
  OUT=6
  CHECK_SQL="SELECT count(*) FROM migrate_history WHERE name LIKE 'many%'"
  CHECK_OUT=5
}
hc_valid_dangling_symlink_not_sql() {
  GOOD=1
  ln -s "$W/nowhere.md" "$F/README.md"
  OUT=1
  CHECK_SQL="SELECT count(*) FROM migrate_history"
  CHECK_OUT=3
  # README: files that are not .sql are ignored; a dangling README.md link fails the call
}

# many_files N: N files the folder ignores (notes, editor backups, hidden files)
many_files() {
  local n=$1 i
  (
    cd "$F" || exit 1
    for ((i = 0; i < n; i++)); do
      case $((i % 4)) in
        0) : >"note_$i.txt" ;;
        1) : >"$i.sql.bak" ;;
        2) : >".hidden_$i.sql" ;;
        3) : >"data_$i.csv" ;;
      esac
    done
  )
}

# --- the runner ---------------------------------------------------------------------------------

yes 'SELECT 1;' | head -c 52428800 >"$W/huge.sql"

cases=()
while IFS= read -r name; do
  cases+=("$name")
done < <(sed -n 's/^\(hc_[A-Za-z0-9_]*\)[[:space:]]*()[[:space:]]*{.*/\1/p' "$HERE/hostile.sh")

check_begin "hostile input: setup"
out=$(sqlite_setup 2>&1) || fail "$out"
out=$(pg_setup 2>&1) || fail "$out"
check_end || exit 1

BAD_TRIED=0
GOOD_TRIED=0
REFUSED=0 # bad calls that ended in the expected error with nothing changed
KNOWN=0

# one_case ENGINE: run the prepared case on one engine; problems go to fail
one_case() {
  local engine=$1 sql dir_lit before after expect db user="" out known
  if [ "$engine" = sqlite ]; then
    expect=${EXPECT_SQLITE:-$EXPECT}
    known=${KNOWN_SQLITE:-}
  else
    expect=${EXPECT_PG:-$EXPECT}
    known=${KNOWN_PG:-}
  fi
  dir_lit=$(lit "$DIR")
  sql=${CALL//%D/$dir_lit}
  local fails_before=${#CHECK_FAILS[@]}
  if [ "$engine" = sqlite ]; then
    db="$W/case.db"
    cp base.db "$db"
    if [ "${UNPRIV:-0}" = 1 ] && [ -n "$UNPRIV_USER" ]; then
      rm -rf "$W/unpriv" && mkdir "$W/unpriv" && cp base.db "$W/unpriv/case.db"
      chown -R "$UNPRIV_USER" "$W/unpriv"
      db="$W/unpriv/case.db"
      user=$UNPRIV_USER
    elif [ "${UNPRIV:-0}" = 1 ] && [ "$(id -u)" -eq 0 ]; then
      SKIPPED+=("$CASE on sqlite: running as root and no unprivileged user to run as (runuser, nobody)")
      return 0
    fi
    before=$(sqlite_dump "$db")
    run_sqlite "$sql" "$db" "$user"
    after=$(sqlite_dump "$db")
  else
    if [ "${GOOD:-0}" = 1 ]; then
      db=$PGGOOD
      pg_reset_good
    else
      db=$PGDB
    fi
    # the state after one case is the state before the next
    if [ "$db" = "$PGDB" ] && [ -n "$PG_LAST_DUMP" ]; then
      before=$PG_LAST_DUMP
    else
      before=$(pg_dump_db "$db")
    fi
    run_pg "$sql" "$db"
    after=$(pg_dump_db "$db")
    [ "$db" = "$PGDB" ] && PG_LAST_DUMP=$after
  fi
  if [ "${GOOD:-0}" = 1 ]; then
    local want=${OUT_SQLITE:-$OUT_GOOD}
    [ "$engine" = pg ] && want=${OUT_PG:-$OUT_GOOD}
    [ "$RC" -eq 0 ] || fail "$engine: the call failed (exit status $RC): $ERR"
    expect_eq "$engine: result" "$want" "$OUT"
    if [ -n "${CHECK_SQL:-}" ] && [ "$RC" -eq 0 ]; then
      local check=$CHECK_SQL
      [ "$engine" = pg ] && check=${CHECK_SQL_PG:-$CHECK_SQL}
      if [ "$engine" = sqlite ]; then
        out=$("$SQLITE3" -batch "$db" "$check" 2>&1)
      else
        out=$(pg_q_quiet -d "$db" -c "$check" 2>&1)
      fi
      expect_eq "$engine: $check" "$CHECK_OUT" "$out"
    fi
  else
    [ "${REL_VERBOSE:-0}" = 2 ] && printf '# %s %s: %s\n' "$CASE" "$engine" "$(printf '%s' "$ERR" | head -3 | tr '\n' '|')"
    if [ "$RC" -eq 0 ]; then
      fail "$engine: the call succeeded (printing [$OUT]) instead of failing"
    else
      [[ $ERR =~ $expect ]] || fail "$engine: the error does not match /$expect/:"$'\n'"$ERR"
    fi
    if [ "$before" != "$after" ]; then
      fail "$engine: the database changed:"$'\n'"$(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | head -20)"
      # the next case starts from the base again
      if [ "$engine" = pg ]; then
        pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS $PGDB" -c "CREATE DATABASE $PGDB TEMPLATE $PGBASE" >/dev/null
        PG_LAST_DUMP=
      fi
    fi
  fi
  if [ -n "$known" ] && [ ${#CHECK_FAILS[@]} -gt "$fails_before" ]; then
    KNOWN_HIT+=("$engine: $known")
    CHECK_FAILS=("${CHECK_FAILS[@]:0:fails_before}")
  elif [ "${GOOD:-0}" != 1 ] && [ ${#CHECK_FAILS[@]} -eq "$fails_before" ]; then
    REFUSED=$((REFUSED + 1))
  fi
  [ "$engine" = sqlite ] && [ -n "$user" ] && rm -rf "$W/unpriv"
}

SKIPPED=()
for CASE in "${cases[@]}"; do
  label=${CASE#hc_}
  label=${label//_/ }
  label=${label#valid }
  F="$W/cases/$CASE"
  rm -rf "$F"
  mkdir -p "$F"
  cp -R "$W/base/." "$F/"
  cp "$W/pending.sql" "$F/3_pending.sql"
  CALL='SELECT migrate_apply(%D)'
  EXPECT='' EXPECT_SQLITE='' EXPECT_PG='' GOOD=0 OUT='' OUT_SQLITE='' OUT_PG=''
  CHECK_SQL='' CHECK_SQL_PG='' CHECK_OUT='' UNPRIV=0 KNOWN_SQLITE='' KNOWN_PG=
  DIR=$F
  KNOWN_HIT=()
  "$CASE"
  OUT_GOOD=$OUT
  chmod a+rX "$W/cases"
  chmod -R a+rX "$F" 2>/dev/null
  # what the case made unreadable stays unreadable
  if [ "$CASE" = hc_folder_unreadable ]; then chmod 000 "$F"; fi
  if [ "$CASE" = hc_file_unreadable ]; then chmod 000 "$F/5_secret.sql"; fi
  if [ "$CASE" = hc_down_file_unreadable ]; then chmod 000 "$F/5_secret.down.sql"; fi
  if [ "$GOOD" = 1 ]; then
    check_begin "hostile input (valid): $label, on SQLite and PostgreSQL"
    GOOD_TRIED=$((GOOD_TRIED + 1))
  else
    check_begin "hostile input: $label, on SQLite and PostgreSQL"
    BAD_TRIED=$((BAD_TRIED + 1))
  fi
  t_case=$(now_ms)
  one_case sqlite
  one_case pg
  [ "${REL_VERBOSE:-0}" = 1 ] && echo "# $CASE: $(($(now_ms) - t_case)) ms"
  if [ ${#KNOWN_HIT[@]} -gt 0 ] && [ ${#CHECK_FAILS[@]} -eq 0 ]; then
    known_bug "$CHECK_NAME" "$(printf '%s; ' "${KNOWN_HIT[@]}")"
    KNOWN=$((KNOWN + 1))
  elif [ ${#KNOWN_HIT[@]} -gt 0 ]; then
    fail "(and the known bug: ${KNOWN_HIT[*]})"
    check_end
  else
    check_end
  fi
  chmod -R u+rwX "$F" 2>/dev/null
  rm -rf "$F"
done
for s in "${SKIPPED[@]}"; do
  echo "# skipped: $s"
done
rm -f "$W/huge.sql"
pg_q_quiet -d postgres -c "DROP DATABASE IF EXISTS $PGDB" -c "DROP DATABASE IF EXISTS $PGGOOD" \
  -c "DROP DATABASE IF EXISTS $PGBASE" >/dev/null 2>&1
echo "# hostile input: $BAD_TRIED bad inputs and $GOOD_TRIED valid ones, each on both engines ($((2 * BAD_TRIED)) bad calls); $KNOWN hit a known bug"
stat hostile_bad "$BAD_TRIED"
stat hostile_good "$GOOD_TRIED"
stat hostile_known "$KNOWN"
stat hostile_refused "$REFUSED"
stat hostile_skipped "${#SKIPPED[@]}"
