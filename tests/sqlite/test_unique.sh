# shellcheck shell=bash
# migrate_add_unique and migrate_duplicates on SQLite alone: the index as sqlite_schema and the
# pragmas show it, foreign keys switched by PRAGMA foreign_keys, a refused call inside an open
# transaction (which SQLite keeps open), a column named rowid, the hidden arguments of the
# table-valued function, PRAGMA threads, a UNIQUE column's autoindex and collations as
# equivalent indexes, and triggers on a quarantine table made beforehand. The behaviour itself
# is written once for both engines in tests/cases/unique.sh, which also holds the fixture these
# cases use (unique_users, USERS_DUPLICATES_ERROR).

# Clean data, as SQLite shows it: the UNIQUE index is in sqlite_schema with its SQL, listed by
# the pragmas; the table itself is not rebuilt (same definition, same root page). The behaviour
# on both engines is tests/cases/unique.sh's case_unique_clean_data_creates_index.
test_unique_clean_data_index_in_sqlite_schema() {
  sqlite_run db <<'EOF'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT);
INSERT INTO users VALUES (1, 'a@x.com', 'x'), (2, 'b@x.com', 'y'), (3, NULL, NULL);
EOF
  sqlite_run db <<<"SELECT rootpage, sql FROM sqlite_schema WHERE name = 'users';"
  local before=$OUT
  sqlite_q db "SELECT migrate_add_unique('users', 'email');" \
    "created unique index users_email_key on users"
  sqlite_run db <<'EOF'
SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE type = 'index' ORDER BY name;
SELECT name, "unique", origin, partial FROM pragma_index_list('users');
SELECT seqno, name FROM pragma_index_info('users_email_key');
SELECT rootpage, sql FROM sqlite_schema WHERE name = 'users';
SELECT count(*) FROM users;
EOF
  expect_ok "index|users_email_key|users|CREATE UNIQUE INDEX \"users_email_key\" ON \"users\" (\"email\")
users_email_key|1|c|0
0|email
$before
3"
}

# A child table with ON DELETE CASCADE, foreign keys on: the clean path only creates an index
# (no child row lost, no trigger fires, enforcement still on, and a foreign key may now
# reference the columns); keep_first / keep_last refuse, naming the child, and change nothing.
test_unique_foreign_keys_cascade_child() {
  sqlite_run db <<'EOF'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, org INTEGER);
CREATE TABLE posts (id INTEGER PRIMARY KEY,
                    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE);
CREATE TABLE log (what TEXT);
CREATE TRIGGER users_deleted AFTER DELETE ON users BEGIN INSERT INTO log VALUES ('delete'); END;
CREATE TRIGGER users_updated AFTER UPDATE ON users BEGIN INSERT INTO log VALUES ('update'); END;
CREATE TRIGGER users_inserted AFTER INSERT ON users BEGIN INSERT INTO log VALUES ('insert'); END;
INSERT INTO users VALUES (1, 'a@x.com', 1), (2, 'b@x.com', 1), (3, 'c@x.com', 2);
INSERT INTO posts VALUES (1, 1), (2, 1), (3, 2), (4, 3);
DELETE FROM log;
EOF
  expect_ok ""
  sqlite_run db <<'EOF'
PRAGMA foreign_keys = ON;
SELECT count(*) FROM posts;
SELECT migrate_add_unique('users', 'email');
SELECT count(*) FROM posts;
SELECT count(*) FROM log;
PRAGMA foreign_keys;
PRAGMA foreign_key_check;
SELECT migrate_add_unique('users', 'org, email', NULL, 'keep_first');
SELECT count(*) FROM posts;
SELECT count(*) FROM log;
EOF
  expect_ok "4
created unique index users_email_key on users
4
0
1
created unique index users_org_email_key on users
4
0"
  # a foreign key may reference the unique column now, and is enforced
  sqlite_run db <<'EOF'
PRAGMA foreign_keys = ON;
CREATE TABLE invites (email TEXT REFERENCES users (email));
INSERT INTO invites VALUES ('a@x.com');
INSERT INTO invites VALUES ('nobody@x.com');
EOF
  expect_error "FOREIGN KEY constraint failed"

  # duplicates: keep_first and keep_last would delete parents and cascade: refused by name
  sqlite_run db <<'EOF'
PRAGMA foreign_keys = OFF;
DROP TABLE invites;
DROP INDEX users_email_key;
DROP INDEX users_org_email_key;
UPDATE users SET email = 'a@x.com';
DELETE FROM log;
EOF
  expect_ok ""
  dump db
  local before=$DUMP
  local refusal="refusing to delete duplicate rows of users: table posts references it with a foreign key, and deleting could cascade to its rows; nothing was changed"
  sqlite_run --no-bail db <<'EOF'
PRAGMA foreign_keys = ON;
SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');
SELECT migrate_add_unique('users', 'email', NULL, 'keep_last');
SELECT count(*) FROM users;
SELECT count(*) FROM posts;
PRAGMA foreign_keys;
EOF
  expect_error "$refusal
$refusal" "3
4
1"
  # refused with enforcement off too: the cascade would fire the next time it is on
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'email', NULL, 'keep_last');"
  expect_error "$refusal"
  dump db
  expect_eq "database after the refused calls" "$before" "$DUMP"
}

# A refused call inside the caller's open transaction undoes only itself: SQLite keeps the
# transaction open and the caller's own earlier work in place (PostgreSQL aborts the transaction:
# its savepoint form is in tests/pg/sql/unique.sql). ROLLBACK and COMMIT around a call are
# tests/cases/unique.sh's case_unique_caller_transaction.
test_unique_refused_call_keeps_open_transaction() {
  unique_users
  sqlite_q db "SELECT migrate_add_unique('users', 'email', NULL, 'keep_last');" \
    "moved 3 duplicate rows of users to users_duplicates; created unique index users_email_key"
  sqlite_run --no-bail db <<'EOF'
BEGIN;
INSERT INTO users VALUES (9, 'd@x.com', 'd9');
UPDATE users SET name = 'same';
SELECT migrate_add_unique('users', 'name');
SELECT count(*) FROM users;
COMMIT;
SELECT count(*) FROM users WHERE name = 'same';
SELECT count(*) FROM sqlite_schema WHERE name = 'users_name_key';
EOF
  expect_error "cannot make users (name) unique: 1 duplicate group, 6 rows; nothing was changed
name 'same' appears 6 times
HINT: SELECT * FROM migrate_duplicates('users', 'name') lists every group; on_duplicate 'keep_first' or 'keep_last' moves the other rows of each group to users_duplicates" "6
6
0"
}

# A table whose own column is called rowid: rows must still be identified by the real row
# identity (_rowid_, or oid when that is taken too), so the report lists each row once and
# keep_first / keep_last keep one row of each group and move exactly the others.
test_unique_column_named_rowid() {
  sqlite_run db <<'EOF'
CREATE TABLE r ("rowid" TEXT, email TEXT);
INSERT INTO r VALUES ('same', 'a'), ('same', 'a'), ('same', 'b'), ('other', 'b');
SELECT * FROM migrate_duplicates('r', 'email');
SELECT migrate_add_unique('r', 'email', NULL, 'keep_first');
SELECT _rowid_, "rowid", email FROM r ORDER BY _rowid_;
SELECT '--';
SELECT "rowid", email FROM r_duplicates ORDER BY "rowid", email;
EOF
  expect_ok "a|2|1, 2
b|2|3, 4
moved 2 duplicate rows of r to r_duplicates; created unique index r_email_key
1|same|a
3|same|b
--
other|b
same|a"
  # rowid and _rowid_ both taken: oid is still the row
  sqlite_run db <<'EOF'
CREATE TABLE r2 ("rowid" TEXT, "_rowid_" TEXT, email TEXT);
INSERT INTO r2 VALUES ('x', 'y', 'a'), ('x', 'y', 'a'), ('x', 'y', 'a'), ('x', 'y', 'b');
SELECT * FROM migrate_duplicates('r2', 'email');
SELECT migrate_add_unique('r2', 'email', NULL, 'keep_last');
SELECT oid, email FROM r2 ORDER BY oid;
SELECT count(*) FROM r2_duplicates;
EOF
  expect_ok "a|3|1, 2, 3
moved 2 duplicate rows of r2 to r2_duplicates; created unique index r2_email_key
3|a
4|b
2"
}

# migrate_duplicates is a table-valued function: its hidden arguments can be named as columns
# too. The report itself is tests/cases/unique.sh's case_unique_duplicates_report.
test_unique_duplicates_hidden_arguments() {
  sqlite_run db <<'EOF'
CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, s TEXT);
INSERT INTO t VALUES (20, 10, 'c'), (3, 9, 'B'), (11, 10, 'a'), (4, 9, 'B'), (5, 100, 'a'),
                     (1, 10, 'c'), (6, 7, 'z'), (2, 9, 'c');
EOF
  expect_ok ""
  sqlite_q db "SELECT key FROM migrate_duplicates WHERE \"table\" = 't' AND columns = 's';" "B
a
c"
}

# The sorts of migrate_add_unique and migrate_duplicates may use helper threads, but the
# connection's own PRAGMA threads is as it was afterwards, when the call fails too; a higher
# setting of the DBA's is left alone.
test_unique_sort_threads_restored() {
  unique_users
  sqlite_run --no-bail db <<'EOF2'
SELECT migrate_add_unique('users', 'name');
PRAGMA threads;
SELECT count(*) FROM migrate_duplicates('users', 'email');
PRAGMA threads;
SELECT migrate_add_unique('users', 'email');
PRAGMA threads;
PRAGMA threads = 7;
SELECT migrate_add_unique('users', 'id, name');
PRAGMA threads;
EOF2
  expect_rc 1
  expect_out "created unique index users_name_key on users
0
2
0
0
7
created unique index users_id_name_key on users
7"
}

# A unique index that already enforces the same uniqueness under another name (a UNIQUE column
# constraint's autoindex, the same columns in another order) makes the call a no-op; one that
# differs (another collation, a partial index, other columns) does not count.
test_unique_equivalent_index_is_noop() {
  sqlite_run db <<'EOF2'
CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT UNIQUE, name TEXT COLLATE NOCASE, a INT, b INT);
CREATE UNIQUE INDEX u_ab ON u (b, a);
CREATE UNIQUE INDEX u_name_binary ON u (name COLLATE BINARY);
CREATE UNIQUE INDEX u_a_partial ON u (a) WHERE a > 0;
EOF2
  expect_ok ""
  sqlite_run db <<'EOF2'
SELECT migrate_add_unique('u', 'email');
SELECT migrate_add_unique('u', ' a , b ');
SELECT migrate_add_unique('u', 'email', 'u_email_named');
SELECT migrate_add_unique('u', 'name');
SELECT migrate_add_unique('u', 'a');
SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name;
EOF2
  expect_ok "unique index sqlite_autoindex_u_1 on u already makes these columns unique; nothing to do
unique index u_ab on u already makes these columns unique; nothing to do
unique index sqlite_autoindex_u_1 on u already makes these columns unique; nothing to do
created unique index u_name_key on u
created unique index u_a_key on u
sqlite_autoindex_u_1
u_a_key
u_a_partial
u_ab
u_name_binary
u_name_key"
}

# A users_duplicates the call did not create is not written into when something of it would
# run: one with a trigger (a temporary one too) is refused, naming it and why, and nothing
# changes (the trigger does not run). Other columns and columns in another order are
# tests/cases/unique.sh's case_unique_precreated_quarantine_columns.
test_unique_precreated_quarantine_with_trigger() {
  unique_users
  sqlite_run db <<'EOF2'
CREATE TABLE spy (n INTEGER);
CREATE TABLE users_duplicates (id INTEGER, email TEXT, name TEXT, migrate_moved_at TEXT);
CREATE TRIGGER users_duplicates_spy AFTER INSERT ON users_duplicates
  BEGIN INSERT INTO spy VALUES (NEW.id); END;
EOF2
  expect_ok ""
  dump db
  local before=$DUMP
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');"
  expect_error "refusing to move duplicate rows of users into the existing table users_duplicates: it has triggers, which would run with the caller's rights; nothing was changed"
  dump db
  expect_eq "database after the refusal" "$before" "$DUMP"
  sqlite_q db "SELECT count(*) FROM spy;" "0"

  # a temporary trigger on it counts as well
  sqlite_run db <<'EOF2'
DROP TRIGGER users_duplicates_spy;
CREATE TEMP TRIGGER users_duplicates_tspy AFTER INSERT ON main.users_duplicates
  BEGIN INSERT INTO spy VALUES (NEW.id); END;
SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');
EOF2
  expect_error "refusing to move duplicate rows of users into the existing table users_duplicates: it has triggers, which would run with the caller's rights; nothing was changed"
}
