# shellcheck shell=bash
# migrate_add_unique and migrate_duplicates on both engines: making columns of a table that
# already has data unique, and what happens to the rows that share a key. What only one engine
# has stays with it: on SQLite (tests/sqlite/test_unique.sh) the index as sqlite_schema and the
# pragmas show it, foreign keys switched by PRAGMA, a column named rowid, PRAGMA threads, the
# autoindex of a UNIQUE column, trigger syntax, a refused call inside an open transaction, and
# the hidden arguments of the table-valued function; on PostgreSQL (tests/pg/sql/unique.sql
# and unique_migration.sql) the constraint the index is attached as, SQLSTATEs, ctid and
# partitions, ICU collations, schemas on search_path, names near 63 bytes, rules, policies and
# savepoints.
#
# A case writes its tables and migrations with db_run / put and checks with the expect_*
# assertions (tests/lib/assert.sh); see tests/cases/lifecycle.sh.

# users: eight rows, ids inserted out of order so that storage order is not insertion order;
# two duplicate groups on email ('a@x.com' x3, 'b@x.com' x2), two NULL emails, one clean row.
unique_users() {
  db_run <<'EOF'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT);
INSERT INTO users VALUES (6, 'a@x.com', 'a6'), (2, 'b@x.com', 'b2'), (3, 'a@x.com', 'a3'),
                         (4, NULL, 'n4'), (5, NULL, 'n5'), (1, 'a@x.com', 'a1'),
                         (7, 'b@x.com', 'b7'), (8, 'c@x.com', 'c8');
EOF
  expect_ok ""
}

# The message of a refused call on unique_users' table.
USERS_DUPLICATES_ERROR="cannot make users (email) unique: 2 duplicate groups, 5 rows; nothing was changed
email 'a@x.com' appears 3 times
email 'b@x.com' appears 2 times
HINT: SELECT * FROM migrate_duplicates('users', 'email') lists every group; on_duplicate 'keep_first' or 'keep_last' moves the other rows of each group to users_duplicates"

# The error of an INSERT the unique index INDEX on TABLE (COLUMNS) refuses for the key VALUES,
# in each engine's words.
unique_violation() {
  if on pg; then
    printf 'duplicate key value violates unique constraint "%s"\nKey (%s)=(%s) already exists.' \
      "$3" "$4" "$5"
  else
    printf 'UNIQUE constraint failed: %s' "$2"
  fi
}

# Clean data: a UNIQUE index named <table>_<cols>_key, enforced; an index name of the caller's
# choosing; the 2-argument and 4-argument forms agree.
case_unique_clean_data_creates_index() {
  db_run <<'EOF'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT);
INSERT INTO users VALUES (1, 'a@x.com', 'x'), (2, 'b@x.com', 'y'), (3, NULL, NULL);
EOF
  expect_ok ""
  db_q "SELECT migrate_add_unique('users', 'email'); $INDEXES $(index_columns users_email_key)
SELECT count(*) FROM users;" \
    "created unique index users_email_key on users
users_email_key
email
3"
  db_run <<<"INSERT INTO users VALUES (4, 'a@x.com', 'y');"
  expect_error "$(unique_violation users users.email users_email_key email a@x.com)"
  db_q "SELECT migrate_add_unique('users', 'name', 'users_by_name', 'fail'); $INDEXES" \
    "created unique index users_by_name on users
users_by_name
users_email_key"
  db_q "SELECT migrate_add_unique('users', 'id, name', 'users_id_name', NULL);" \
    "created unique index users_id_name on users"
}

# Duplicates with 'fail' (the default): the error counts groups and rows and shows the keys;
# the database is exactly as it was (schema, rows, no quarantine table).
case_unique_duplicates_fail_changes_nothing() {
  unique_users
  db_q "SELECT count(*) FROM users; $COUNT_TABLES $INDEXES" "8
1"
  db_snapshot
  db_run <<<"SELECT migrate_add_unique('users', 'email');"
  expect_error "$USERS_DUPLICATES_ERROR"
  db_run <<<"SELECT migrate_add_unique('users', 'email', NULL, 'fail');"
  expect_error "$USERS_DUPLICATES_ERROR"
  db_run <<<"SELECT migrate_add_unique('users', 'email', 'my_index');"
  expect_error "$USERS_DUPLICATES_ERROR"
  db_run <<<"SELECT migrate_add_unique('users', 'email', 'users_email_unique', 'fail');"
  expect_error "$USERS_DUPLICATES_ERROR"
  db_q "SELECT count(*) FROM users; $COUNT_TABLES $INDEXES" "8
1"
  expect_unchanged "database after the refused calls"

  # past five groups the error says how many more there are
  db_run <<'EOF'
CREATE TABLE many (id INTEGER PRIMARY KEY, k INTEGER);
INSERT INTO many (id, k) VALUES (1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (6, 3), (7, 4), (8, 4),
  (9, 5), (10, 5), (11, 6), (12, 6), (13, 7), (14, 7), (15, 7), (16, 8);
EOF
  expect_ok ""
  db_run <<<"SELECT migrate_add_unique('many', 'k');"
  expect_error "cannot make many (k) unique: 7 duplicate groups, 15 rows; nothing was changed
k '1' appears 2 times
k '2' appears 2 times
k '3' appears 2 times
k '4' appears 2 times
k '5' appears 2 times
... and 2 more groups
HINT: SELECT * FROM migrate_duplicates('many', 'k') lists every group; on_duplicate 'keep_first' or 'keep_last' moves the other rows of each group to many_duplicates"
}

# keep_first: the row with the lowest row identity (rowid, primary key) of each group stays;
# the others, and only they, move to users_duplicates (same columns plus migrate_moved_at, all
# moved at one time), and the index is created.
case_unique_keep_first() {
  unique_users
  db_q "SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');" \
    "moved 3 duplicate rows of users to users_duplicates; created unique index users_email_key"
  db_run <<EOF
SELECT * FROM users ORDER BY id;
SELECT '--';
SELECT id, email, name, $FRESH_MOVED_AT FROM users_duplicates ORDER BY id;
SELECT '--';
$(columns_of users_duplicates)
SELECT count(DISTINCT migrate_moved_at) FROM users_duplicates;
$INDEXES
EOF
  expect_ok "1|a@x.com|a1
2|b@x.com|b2
4||n4
5||n5
8|c@x.com|c8
--
3|a@x.com|a3|1
6|a@x.com|a6|1
7|b@x.com|b7|1
--
id
email
name
migrate_moved_at
1
users_email_key"
  # nothing lost, nothing doubled
  db_q "SELECT count(*) FROM (SELECT id, email, name FROM users UNION ALL
                             SELECT id, email, name FROM users_duplicates) AS both_tables;" "8"
}

# keep_last: the row with the highest row identity of each group stays; a second quarantine on
# another column adds to the same table.
case_unique_keep_last() {
  unique_users
  db_q "SELECT migrate_add_unique('users', 'email', NULL, 'keep_last');" \
    "moved 3 duplicate rows of users to users_duplicates; created unique index users_email_key"
  db_run <<'EOF'
SELECT * FROM users ORDER BY id;
SELECT '--';
SELECT id, email, name FROM users_duplicates ORDER BY id;
EOF
  expect_ok "4||n4
5||n5
6|a@x.com|a6
7|b@x.com|b7
8|c@x.com|c8
--
1|a@x.com|a1
2|b@x.com|b2
3|a@x.com|a3"
  db_run <<'EOF'
UPDATE users SET name = 'same' WHERE id IN (4, 8);
SELECT migrate_add_unique('users', 'name', NULL, 'keep_first');
SELECT id, name FROM users_duplicates ORDER BY id;
EOF
  expect_ok "moved 1 duplicate rows of users to users_duplicates; created unique index users_name_key
1|a1
2|b2
3|a3
8|same"
}

# A composite primary key (on SQLite a WITHOUT ROWID table, where it is the row's identity):
# rows are identified, ordered and reported by primary key.
case_unique_keep_by_composite_primary_key() {
  local without_rowid=
  on sqlite && without_rowid=' WITHOUT ROWID'
  db_run <<EOF
CREATE TABLE w (code TEXT, n INTEGER, email TEXT, PRIMARY KEY (code, n))$without_rowid;
INSERT INTO w VALUES ('b', 1, 'x'), ('a', 2, 'x'), ('a', 1, 'x'), ('c', 1, 'y'), ('b', 0, 'y');
SELECT * FROM migrate_duplicates('w', 'email');
SELECT migrate_add_unique('w', 'email', NULL, 'keep_last');
SELECT * FROM w ORDER BY code, n;
SELECT '--';
SELECT code, n, email FROM w_duplicates ORDER BY code, n;
EOF
  expect_ok "x|3|(a, 1), (a, 2), (b, 1)
y|2|(b, 0), (c, 1)
moved 3 duplicate rows of w to w_duplicates; created unique index w_email_key
b|1|x
c|1|y
--
a|1|x
a|2|x
b|0|y"
}

# NULLs are distinct, as the index sees them: several NULL keys (or keys with a NULL part) are
# not duplicates, are not reported and are not moved; the indexes let more NULLs in.
case_unique_nulls_are_not_duplicates() {
  db_run <<'EOF'
CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER, c TEXT);
INSERT INTO t VALUES (1, NULL, 1, NULL), (2, NULL, 1, NULL), (3, NULL, NULL, NULL),
                     (4, 'x', NULL, 'p'), (5, 'x', NULL, 'q'), (6, 'y', 2, NULL);
SELECT count(*) FROM migrate_duplicates('t', 'c');
SELECT count(*) FROM migrate_duplicates('t', 'b, a');
SELECT migrate_add_unique('t', 'b, a', NULL, 'keep_first');
SELECT * FROM migrate_duplicates('t', 'b');
SELECT * FROM migrate_duplicates('t', 'a');
EOF
  expect_ok "0
0
created unique index t_b_a_key on t
1|2|1, 2
x|2|4, 5"
  db_q "SELECT migrate_add_unique('t', 'c'); SELECT count(*) FROM t; $TABLES" \
    "created unique index t_c_key on t
6
t"
  db_q "INSERT INTO t VALUES (7, NULL, NULL, NULL); INSERT INTO t VALUES (8, 'x', NULL, NULL);
        SELECT count(*) FROM t WHERE c IS NULL;" "6"
}

# A case-insensitive column (SQLite's NOCASE, a nondeterministic ICU collation on PostgreSQL):
# 'a@x.com' and 'A@X.com' are duplicates to the index, so they are to the report, the error
# and the quarantine.
case_unique_case_insensitive_collation() {
  local collate=NOCASE
  if on pg; then
    collate=ci
    db_q "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);" ""
  fi
  db_run <<EOF
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT COLLATE $collate);
INSERT INTO users VALUES (1, 'a@x.com'), (2, 'A@X.com'), (3, 'b@x.com'), (4, 'B@x.COM'),
                         (5, 'a@X.Com'), (6, 'c@x.com');
SELECT * FROM migrate_duplicates('users', 'email');
EOF
  expect_ok "a@x.com|3|1, 2, 5
b@x.com|2|3, 4"
  db_run <<<"SELECT migrate_add_unique('users', 'email');"
  expect_error "cannot make users (email) unique: 2 duplicate groups, 5 rows; nothing was changed
email 'a@x.com' appears 3 times
email 'b@x.com' appears 2 times
HINT: SELECT * FROM migrate_duplicates('users', 'email') lists every group; on_duplicate 'keep_first' or 'keep_last' moves the other rows of each group to users_duplicates"
  db_q "SELECT count(*) FROM users;" "6"
  db_q "SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');
        SELECT * FROM users ORDER BY id; SELECT '--';
        SELECT id, email FROM users_duplicates ORDER BY id;" \
    "moved 3 duplicate rows of users to users_duplicates; created unique index users_email_key
1|a@x.com
3|b@x.com
6|c@x.com
--
2|A@X.com
4|B@x.COM
5|a@X.Com"
  db_run <<<"INSERT INTO users VALUES (7, 'C@X.COM');"
  expect_error "$(unique_violation users users.email users_email_key email C@X.COM)"
}

# Several columns: the key is the combination, in the order given (white space trimmed); the
# error shows the columns and the values, the report joins the values with ", ".
case_unique_multi_column() {
  db_run <<'EOF'
CREATE TABLE members (id INTEGER PRIMARY KEY, org INTEGER, email TEXT);
INSERT INTO members VALUES (1, 1, 'a@x.com'), (2, 2, 'a@x.com'), (3, 1, 'a@x.com'),
                           (4, 1, 'b@x.com'), (5, 2, 'a@x.com'), (6, 2, 'b@x.com');
SELECT * FROM migrate_duplicates('members', ' org ,email ');
EOF
  expect_ok "1, a@x.com|2|1, 3
2, a@x.com|2|2, 5"
  db_run <<<"SELECT migrate_add_unique('members', ' org ,email ');"
  expect_error "cannot make members (org, email) unique: 2 duplicate groups, 4 rows; nothing was changed
(org, email) ('1', 'a@x.com') appears 2 times
(org, email) ('2', 'a@x.com') appears 2 times
HINT: SELECT * FROM migrate_duplicates('members', 'org, email') lists every group; on_duplicate 'keep_first' or 'keep_last' moves the other rows of each group to members_duplicates"
  # each column alone has more duplicates; the pair is what counts
  db_q "SELECT migrate_add_unique('members', 'org, email', NULL, 'keep_last');
        SELECT id FROM members ORDER BY id; SELECT '--';
        SELECT id FROM members_duplicates ORDER BY id; SELECT '--'; $INDEXES
        $(index_columns members_org_email_key)" \
    "moved 2 duplicate rows of members to members_duplicates; created unique index members_org_email_key
3
4
5
6
--
1
2
--
members_org_email_key
org
email"
  db_q "INSERT INTO members VALUES (7, 3, 'a@x.com'); SELECT count(*) FROM members;" "5"
  db_run <<<"INSERT INTO members VALUES (8, 3, 'a@x.com');"
  expect_error "$(unique_violation members 'members.org, members.email' members_org_email_key \
    'org, email' '3, a@x.com')"
}

# Inside the caller's transaction: ROLLBACK undoes the index, the moved rows and the quarantine
# table; COMMIT keeps them.
case_unique_caller_transaction() {
  unique_users
  db_snapshot
  db_run <<EOF
BEGIN;
SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');
SELECT count(*) FROM users;
$COUNT_TABLES
ROLLBACK;
SELECT count(*) FROM users;
$COUNT_TABLES
$INDEXES
EOF
  expect_ok "moved 3 duplicate rows of users to users_duplicates; created unique index users_email_key
5
2
8
1"
  expect_unchanged "database after ROLLBACK"
  db_run <<EOF
BEGIN;
SELECT migrate_add_unique('users', 'email', NULL, 'keep_last');
COMMIT;
SELECT count(*) FROM users;
SELECT count(*) FROM users_duplicates;
$INDEXES
EOF
  expect_ok "moved 3 duplicate rows of users to users_duplicates; created unique index users_email_key
5
3
users_email_key"
}

# Inside a migration applied by migrate_apply: recorded like any migration; when it refuses,
# the whole apply is undone (migration 1 too) and the error names the migration; keep_first
# inside a migration moves the rows as part of that migration.
case_unique_inside_migration() {
  put m/1_users.up.sql <<'EOF'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
INSERT INTO users VALUES (1, 'a@x.com'), (2, 'b@x.com');
EOF
  put m/2_unique_email.up.sql <<<"SELECT migrate_add_unique('users', 'email');"
  db_q "SELECT migrate_apply('$PWD/m');" "2"
  db_q "SELECT version, name, direction, CAST(success AS INTEGER) FROM migrate_history ORDER BY id;
SELECT version, state FROM migrations_status('$PWD/m');
$INDEXES" "1|users|up|1
2|unique_email|up|1
1|applied
2|applied
users_email_key"

  # the same folder with a duplicate, on a fresh database: migration 1 is undone with 2 (and on
  # SQLite so is the history table the call created)
  if on sqlite; then
    rm db
  else
    db_q "DROP TABLE users; DELETE FROM migrate_history;" ""
  fi
  db_snapshot
  put m/1_users.up.sql <<'EOF'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
INSERT INTO users VALUES (1, 'a@x.com'), (2, 'b@x.com'), (3, 'a@x.com');
EOF
  put m/2_unique_email.up.sql <<'EOF'
-- one row per email from now on
SELECT migrate_add_unique('users', 'email');
EOF
  local refused="cannot make users (email) unique: 1 duplicate group, 2 rows; nothing was changed
email 'a@x.com' appears 2 times
HINT: SELECT * FROM migrate_duplicates('users', 'email') lists every group; on_duplicate 'keep_first' or 'keep_last' moves the other rows of each group to users_duplicates"
  if on pg; then
    refused="$refused
CONTEXT:  migration 2 (2_unique_email.up.sql, line 2)"
  else
    refused="migration 2 (2_unique_email.up.sql, line 2): $refused"
  fi
  db_run <<<"SELECT migrate_apply('$PWD/m');"
  expect_error "$refused" ""
  expect_unchanged "database after the refused apply"
  db_q "$COUNT_TABLES SELECT version, state FROM migrations_status('$PWD/m');" "0
1|pending
2|pending"

  put m/2_unique_email.up.sql <<<"SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');"
  db_q "SELECT migrate_apply('$PWD/m'); SELECT id FROM users ORDER BY id;
        SELECT id FROM users_duplicates; SELECT count(*) FROM migrate_history;" "2
1
2
3
2"
}

# Hostile identifiers: names with double quotes, single quotes, semicolons, "--" and spaces are
# names, never SQL: the sentinel survives, and the report, the error, the quarantine and the
# index all work with them; a second call is a no-op with such names too.
case_unique_hostile_identifiers() {
  db_run <<'EOF'
CREATE TABLE sentinel (x INTEGER);
INSERT INTO sentinel VALUES (1);
CREATE TABLE "we""ird'; DROP TABLE sentinel; -- t" (
  id INTEGER PRIMARY KEY, "e""m'a;il -- x" TEXT, "full name" TEXT);
INSERT INTO "we""ird'; DROP TABLE sentinel; -- t" VALUES
  (1, 'a''b"c', 'x'), (2, 'a''b"c', 'y'), (3, 'c', 'z'), (4, 'a''b"c', 'x');
SELECT * FROM migrate_duplicates('we"ird''; DROP TABLE sentinel; -- t', 'e"m''a;il -- x');
SELECT * FROM migrate_duplicates('we"ird''; DROP TABLE sentinel; -- t',
                                 'e"m''a;il -- x, full name');
EOF
  expect_ok "a'b\"c|3|1, 2, 4
a'b\"c, x|2|1, 4"
  db_run <<<"SELECT migrate_add_unique('we\"ird''; DROP TABLE sentinel; -- t', 'e\"m''a;il -- x');"
  expect_error "cannot make we\"ird'; DROP TABLE sentinel; -- t (e\"m'a;il -- x) unique: 1 duplicate group, 3 rows; nothing was changed
e\"m'a;il -- x 'a''b\"c' appears 3 times
HINT: SELECT * FROM migrate_duplicates('we\"ird''; DROP TABLE sentinel; -- t', 'e\"m''a;il -- x') lists every group; on_duplicate 'keep_first' or 'keep_last' moves the other rows of each group to we\"ird'; DROP TABLE sentinel; -- t_duplicates"
  db_run <<EOF
SELECT migrate_add_unique('we"ird''; DROP TABLE sentinel; -- t', 'e"m''a;il -- x, full name',
                          'i"dx''; DROP TABLE sentinel; --', 'keep_first');
SELECT migrate_add_unique('we"ird''; DROP TABLE sentinel; -- t', 'e"m''a;il -- x', NULL,
                          'keep_last');
SELECT * FROM "we""ird'; DROP TABLE sentinel; -- t" ORDER BY id;
SELECT '--';
SELECT id, "e""m'a;il -- x", "full name" FROM "we""ird'; DROP TABLE sentinel; -- t_duplicates"
 ORDER BY id;
SELECT '--';
$TABLES
SELECT '--';
$INDEXES
SELECT '--';
SELECT * FROM sentinel;
EOF
  expect_ok "moved 1 duplicate rows of we\"ird'; DROP TABLE sentinel; -- t to we\"ird'; DROP TABLE sentinel; -- t_duplicates; created unique index i\"dx'; DROP TABLE sentinel; --
moved 1 duplicate rows of we\"ird'; DROP TABLE sentinel; -- t to we\"ird'; DROP TABLE sentinel; -- t_duplicates; created unique index we\"ird'; DROP TABLE sentinel; -- t_e\"m'a;il -- x_key
2|a'b\"c|y
3|c|z
--
1|a'b\"c|x
4|a'b\"c|x
--
sentinel
we\"ird'; DROP TABLE sentinel; -- t
we\"ird'; DROP TABLE sentinel; -- t_duplicates
--
i\"dx'; DROP TABLE sentinel; --
we\"ird'; DROP TABLE sentinel; -- t_e\"m'a;il -- x_key
--
1"
  # the indexes enforce what they say
  db_run <<<"INSERT INTO \"we\"\"ird'; DROP TABLE sentinel; -- t\" VALUES (5, 'c', 'q');"
  expect_error "$(unique_violation x "we\"ird'; DROP TABLE sentinel; -- t.e\"m'a;il -- x" \
    "we\"ird'; DROP TABLE sentinel; -- t_e\"m'a;il -- x_key" "\"e\"\"m'a;il -- x\"" c)"
  db_q "SELECT migrate_add_unique('we\"ird''; DROP TABLE sentinel; -- t', 'e\"m''a;il -- x');" \
    "unique index we\"ird'; DROP TABLE sentinel; -- t_e\"m'a;il -- x_key on we\"ird'; DROP TABLE sentinel; -- t already exists; nothing to do"
}

# Errors name what is missing; a table name is a name, not schema.table; a view is not a table;
# empty or repeated columns are refused. Nothing is created.
case_unique_missing_table_or_column() {
  unique_users
  db_q "CREATE VIEW v AS SELECT * FROM users;" ""
  db_snapshot
  local qualified=main.users
  on pg && qualified=public.users
  db_run --no-bail <<EOF
SELECT migrate_add_unique('nope', 'email');
SELECT migrate_add_unique('users', 'nope');
SELECT migrate_add_unique('users', 'email, nope', NULL, 'keep_first');
SELECT migrate_add_unique('$qualified', 'email');
SELECT migrate_add_unique('"users"', 'email');
SELECT * FROM migrate_duplicates('nope', 'email');
SELECT * FROM migrate_duplicates('users', 'mail');
SELECT migrate_add_unique('users', 'email,,name');
SELECT migrate_add_unique('users', '');
SELECT migrate_add_unique('users', 'email, email');
SELECT migrate_add_unique('users', NULL);
SELECT migrate_add_unique(NULL, 'email');
SELECT migrate_add_unique('v', 'email');
EOF
  expect_rc 1
  expect_err "table \"nope\" does not exist
column \"nope\" does not exist in table \"users\"
column \"nope\" does not exist in table \"users\"
table \"$qualified\" does not exist
table \"\"users\"\" does not exist
table \"nope\" does not exist
column \"mail\" does not exist in table \"users\"
column list \"email,,name\" has an empty column name
column list \"\" has an empty column name
column list \"email, email\" names column \"email\" twice
migrate_add_unique needs a list of columns
migrate_add_unique needs a table name
table \"v\" does not exist"
  expect_unchanged "database after the refused calls"
  db_q "$TABLES $INDEXES" "users"
}

# A second call is a no-op (with duplicates present in another column too); an index of that
# name that is something else is an error. The indexes made by hand come first: made after the
# first call, they would be drift.
case_unique_idempotent() {
  db_run <<'EOF'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT);
CREATE TABLE other (email TEXT);
INSERT INTO users VALUES (1, 'a@x.com', 'x'), (2, 'b@x.com', 'x');
CREATE INDEX users_name_key ON users (name);
CREATE UNIQUE INDEX elsewhere ON other (email);
CREATE UNIQUE INDEX users_partial ON users (id) WHERE id > 0;
SELECT migrate_add_unique('users', 'email');
SELECT migrate_add_unique('users', 'email');
SELECT migrate_add_unique('users', 'email', 'users_email_key', 'keep_first');
EOF
  expect_ok "created unique index users_email_key on users
unique index users_email_key on users already exists; nothing to do
unique index users_email_key on users already exists; nothing to do"
  db_q "$INDEXES" "elsewhere
users_email_key
users_name_key
users_partial"
  # with duplicates present (another column), an existing identical index is still a no-op
  db_q "SELECT migrate_add_unique('users', 'email');" \
    "unique index users_email_key on users already exists; nothing to do"

  # a different index under the name the call would use
  local not_index="an index named %s already exists and is not a unique index on users of these columns: %s"
  db_run <<<"SELECT migrate_add_unique('users', 'name');"
  # shellcheck disable=SC2059 # the format is the message
  expect_error "$(printf "$not_index" users_name_key 'it is not unique')"
  db_run <<<"SELECT migrate_add_unique('users', 'name', 'users_email_key');"
  # shellcheck disable=SC2059
  expect_error "$(printf "$not_index" users_email_key 'it covers other columns')"
  db_run <<<"SELECT migrate_add_unique('users', 'email, name', 'users_email_key');"
  # shellcheck disable=SC2059
  expect_error "$(printf "$not_index" users_email_key 'it covers other columns')"
  local elsewhere='it is on table other' partial='it is partial'
  if on pg; then
    elsewhere='it is on another table'
    partial='it is partial or on expressions'
  fi
  db_run <<<"SELECT migrate_add_unique('users', 'email', 'elsewhere');"
  # shellcheck disable=SC2059
  expect_error "$(printf "$not_index" elsewhere "$elsewhere")"
  db_run <<<"SELECT migrate_add_unique('users', 'id', 'users_partial');"
  # shellcheck disable=SC2059
  expect_error "$(printf "$not_index" users_partial "$partial")"
  db_q "$INDEXES SELECT count(*) FROM users;" "elsewhere
users_email_key
users_name_key
users_partial
2"
}

# on_duplicate takes 'fail', 'keep_first', 'keep_last' or 'merge', exactly, checked before the table is
# looked at; anything else changes nothing.
case_unique_bad_on_duplicate() {
  unique_users
  db_snapshot
  local value
  for value in KEEP_FIRST keep first "" skip "keep first"; do
    db_run <<<"SELECT migrate_add_unique('users', 'email', NULL, '$value');"
    expect_error "on_duplicate must be 'fail', 'keep_first', 'keep_last' or 'merge', not '$value'"
  done
  db_run <<<"SELECT migrate_add_unique('nope', 'email', NULL, 'drop');"
  expect_error "on_duplicate must be 'fail', 'keep_first', 'keep_last' or 'merge', not 'drop'"
  expect_unchanged "database after the refused calls"
}

# migrate_duplicates: one row per group (key, count, rows), groups ordered by key as the column
# compares (numbers as numbers), rows by identity (5 before 11); nothing for a clean column; the
# report changes nothing, and keep_first then keeps the row it lists first.
case_unique_duplicates_report() {
  db_run <<'EOF'
CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, s TEXT);
INSERT INTO t VALUES (20, 10, 'c'), (3, 9, 'B'), (11, 10, 'a'), (4, 9, 'B'), (5, 100, 'a'),
                     (1, 10, 'c'), (6, 7, 'z'), (2, 9, 'c');
EOF
  expect_ok ""
  db_snapshot
  db_run <<'EOF'
SELECT key, count, rows FROM migrate_duplicates('t', 'n');
SELECT '--';
SELECT * FROM migrate_duplicates('t', 's');
SELECT '--';
SELECT * FROM migrate_duplicates('t', 'n, s');
SELECT '--';
SELECT count(*) FROM migrate_duplicates('t', 'id');
SELECT sum(count) FROM migrate_duplicates('t', 's');
SELECT count(*) FROM t;
EOF
  expect_ok "9|3|2, 3, 4
10|3|1, 11, 20
--
B|2|3, 4
a|2|5, 11
c|3|1, 2, 20
--
9, B|2|3, 4
10, c|2|1, 20
--
0
7
8"
  expect_unchanged "database after the reports"
  db_q "SELECT migrate_add_unique('t', 's', NULL, 'keep_first'); SELECT id, s FROM t ORDER BY id;" \
    "moved 4 duplicate rows of t to t_duplicates; created unique index t_s_key
1|c
3|B
5|a
6|z"
}

# A <table>_duplicates the call did not create, with columns that are another set, is refused
# and nothing changes; one with the same columns in another order is filled by column name.
# (One with triggers, rules or policies: each engine's own file.)
case_unique_precreated_quarantine_columns() {
  unique_users
  db_q "CREATE TABLE users_duplicates (id INTEGER, email TEXT, migrate_moved_at TEXT, extra TEXT);" ""
  db_snapshot
  db_run <<<"SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');"
  expect_error "refusing to move duplicate rows of users into the existing table users_duplicates: its columns are not the columns of the table plus migrate_moved_at; nothing was changed"
  expect_unchanged "database after the refusal"

  local moved_at=TEXT
  on pg && moved_at=TIMESTAMPTZ
  db_run <<EOF
DROP TABLE users_duplicates;
CREATE TABLE users_duplicates (name TEXT, migrate_moved_at $moved_at, email TEXT, id INTEGER);
SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');
SELECT id, email, name, $FRESH_MOVED_AT FROM users_duplicates ORDER BY id;
EOF
  expect_ok "moved 3 duplicate rows of users to users_duplicates; created unique index users_email_key
3|a@x.com|a3|1
6|a@x.com|a6|1
7|b@x.com|b7|1"
}

# Each function names itself when an argument is missing, and both refuse the tool's own tables;
# nothing changes.
case_unique_names_and_own_tables() {
  unique_users
  db_q "SELECT migrate_init();" "ok"
  db_snapshot
  db_run --no-bail <<'EOF'
SELECT * FROM migrate_duplicates(NULL, NULL);
SELECT * FROM migrate_duplicates('users', NULL);
SELECT * FROM migrate_duplicates('users', 'email,');
SELECT migrate_add_unique('migrate_history', 'name', NULL, 'keep_first');
SELECT migrate_add_unique('migrate_history', 'version');
SELECT * FROM migrate_duplicates('migrate_scripts', 'name');
SELECT migrate_add_unique('MIGRATE_SCRIPTS', 'name');
EOF
  # SQLite's names are not case sensitive, PostgreSQL's quoted names are
  local upper="migrate_add_unique refuses table MIGRATE_SCRIPTS: it is one of migrate's own tables, which only migrate itself changes; nothing was changed"
  on pg && upper='table "MIGRATE_SCRIPTS" does not exist'
  expect_rc 1
  expect_err "migrate_duplicates needs a table name
migrate_duplicates needs a list of columns
column list \"email,\" has an empty column name
migrate_add_unique refuses table migrate_history: it is one of migrate's own tables, which only migrate itself changes; nothing was changed
migrate_add_unique refuses table migrate_history: it is one of migrate's own tables, which only migrate itself changes; nothing was changed
migrate_duplicates refuses table migrate_scripts: it is one of migrate's own tables, which only migrate itself changes; nothing was changed
$upper"
  expect_unchanged "database after the refusals"
}
