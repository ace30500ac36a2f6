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

  # duplicates: keep_first and keep_last would delete parents and cascade: refused by name (the
  # fingerprints go with the indexes dropped by hand, which would otherwise be drift)
  sqlite_run db <<'EOF'
PRAGMA foreign_keys = OFF;
DROP TABLE migrate_schema_history;
DROP TABLE invites;
DROP INDEX users_email_key;
DROP INDEX users_org_email_key;
UPDATE users SET email = 'a@x.com';
DELETE FROM log;
EOF
  expect_ok ""
  dump db
  local before=$DUMP
  local refusal="refusing to delete duplicate rows of users: table posts references it with a foreign key, and deleting could cascade to its rows; nothing was changed
HINT: on_duplicate 'merge' re-points the rows that reference the duplicates to the row kept, then moves the duplicates"
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
  # rowid and _rowid_ both taken: oid is still the row (a table made by hand after a fingerprint
  # is drift, not what this test is about: the fingerprint goes first)
  sqlite_run db <<'EOF'
DROP TABLE migrate_schema_history;
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

# merge_users: users with duplicate emails (COLLATE NOCASE) and four tables that reference them:
# posts (ON DELETE CASCADE), likes (a bare REFERENCES: the primary key), users itself
# (invited_by) and badges (a two-column key on users (id, email)).
merge_users() {
  sqlite_run db <<'EOF2'
CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(40) COLLATE NOCASE, invited_by INTEGER REFERENCES users);
CREATE UNIQUE INDEX users_id_email ON users (id, email);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id) ON DELETE CASCADE);
CREATE TABLE likes (post INTEGER, who INTEGER REFERENCES users ON DELETE CASCADE);
CREATE TABLE badges (user_id INTEGER, user_email TEXT, FOREIGN KEY (user_id, user_email) REFERENCES users (id, email) ON DELETE CASCADE);
INSERT INTO users VALUES (1, 'a@x', NULL), (2, 'A@x', 1), (3, 'b@x', 2), (4, 'a@X', 4), (5, 'c@x', NULL);
INSERT INTO posts VALUES (1, 1), (2, 2), (3, 4), (4, 3), (5, 2);
INSERT INTO likes VALUES (1, 2), (2, 5);
INSERT INTO badges VALUES (2, 'A@x'), (3, 'b@x');
EOF2
  expect_ok ""
}

MERGE_RESULT="moved 2 duplicate rows of users to users_duplicates; re-pointed 1 row of badges, 1 row of likes, 3 rows of posts, 2 rows of users; created unique index users_email_key"

# merge: the rows referencing each duplicate are re-pointed to the row kept (the first), counted
# per table; then the duplicates move as with keep_first. No cascade fires, no child row is lost,
# every foreign key holds, and the quarantine holds exactly the rows moved.
test_unique_merge_repoints_children() {
  merge_users
  sqlite_q db "PRAGMA foreign_keys = ON;
SELECT migrate_add_unique('users', 'email', NULL, 'merge');
SELECT group_concat(id || ':' || email || ':' || ifnull(invited_by, '-'), ',') FROM users;
SELECT group_concat(id || ':' || user_id, ',') FROM posts;
SELECT group_concat(post || ':' || who, ',') FROM likes;
SELECT group_concat(user_id || ':' || user_email, ',') FROM badges;
SELECT group_concat(id || ':' || email, ',') FROM users_duplicates;
PRAGMA foreign_key_check;
SELECT migrate_add_unique('users', 'email', NULL, 'merge');" "$MERGE_RESULT
1:a@x:-,3:b@x:1,5:c@x:-
1:1,2:1,3:1,4:3,5:1
1:1,2:5
1:a@x,3:b@x
2:A@x,4:a@X
unique index users_email_key on users already exists; nothing to do"
  # clean data: the index alone (on tables made by hand, so the fingerprint goes first)
  sqlite_q db "DROP TABLE migrate_schema_history; CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT); CREATE TABLE c (t_id REFERENCES t);
INSERT INTO t VALUES (1, 'a'), (2, 'b'); INSERT INTO c VALUES (2);
SELECT migrate_add_unique('t', 'k', NULL, 'merge');" "created unique index t_k_key on t"
}

# 'fail' still changes nothing and names the groups; keep_first still refuses, pointing at
# merge; a merge that fails midway (an index the quarantine cannot take) changes nothing.
test_unique_merge_refusals_change_nothing() {
  merge_users
  dump db
  local before=$DUMP
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'email', NULL, 'fail');"
  expect_error "cannot make users (email) unique: 1 duplicate group, 3 rows; nothing was changed
email 'a@x' appears 3 times
HINT: SELECT * FROM migrate_duplicates('users', 'email') lists every group; on_duplicate 'keep_first' or 'keep_last' moves the other rows of each group to users_duplicates"
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');"
  expect_error "refusing to delete duplicate rows of users: table badges references it with a foreign key, and deleting could cascade to its rows; nothing was changed
HINT: on_duplicate 'merge' re-points the rows that reference the duplicates to the row kept, then moves the duplicates"
  sqlite_run db <<<"CREATE TABLE users_duplicates (id INTEGER, other TEXT);
SELECT migrate_add_unique('users', 'email', NULL, 'merge');"
  expect_error "refusing to move duplicate rows of users into the existing table users_duplicates: its columns are not the columns of the table plus migrate_moved_at; nothing was changed"
  sqlite_run db <<<"DROP TABLE users_duplicates;"
  expect_ok ""
  dump db
  expect_eq "database after the refused calls" "$before" "$DUMP"
}

# Inside the caller's transaction (enforcement on): ROLLBACK undoes the re-pointing too; and
# inside a migration applied by migrate_apply.
test_unique_merge_in_transaction_and_migration() {
  merge_users
  sqlite_q db "PRAGMA foreign_keys = ON; BEGIN;
SELECT migrate_add_unique('users', 'email', NULL, 'merge');
ROLLBACK;
SELECT count(*) FROM users; SELECT group_concat(user_id, ',') FROM posts;
SELECT count(*) FROM sqlite_schema WHERE name IN ('users_duplicates', 'users_email_key');" "$MERGE_RESULT
5
1,2,4,3,2
0"
  put m/1_unique.up.sql <<<"SELECT migrate_add_unique('users', 'email', NULL, 'merge');"
  sqlite_q db "PRAGMA foreign_keys = ON; SELECT migrate_apply('m');
SELECT count(*) FROM users; SELECT count(*) FROM users_duplicates; SELECT group_concat(user_id, ',') FROM posts;
PRAGMA foreign_key_check;" "1
3
2
1,1,1,3,1"
}

# Hostile identifiers in the referencing table and its columns are names, never SQL.
test_unique_merge_hostile_identifiers() {
  sqlite_run db <<'EOF2'
CREATE TABLE sentinel (x INTEGER);
INSERT INTO sentinel VALUES (1);
CREATE TABLE "pa""rent'; DROP TABLE sentinel; --" (id INTEGER PRIMARY KEY, "e""m'; --" TEXT);
CREATE TABLE "ch""ild'; DROP TABLE sentinel; --" ("p""id'; --" INTEGER REFERENCES "pa""rent'; DROP TABLE sentinel; --" (id) ON DELETE CASCADE);
INSERT INTO "pa""rent'; DROP TABLE sentinel; --" VALUES (1, 'a'), (2, 'a');
INSERT INTO "ch""ild'; DROP TABLE sentinel; --" VALUES (2), (2), (1);
EOF2
  expect_ok ""
  sqlite_q db "PRAGMA foreign_keys = ON;
SELECT migrate_add_unique('pa\"rent''; DROP TABLE sentinel; --', 'e\"m''; --', 'pk', 'merge');
SELECT group_concat(\"p\"\"id'; --\", ',') FROM \"ch\"\"ild'; DROP TABLE sentinel; --\";
SELECT x FROM sentinel;" "moved 1 duplicate rows of pa\"rent'; DROP TABLE sentinel; -- to pa\"rent'; DROP TABLE sentinel; --_duplicates; re-pointed 2 rows of ch\"ild'; DROP TABLE sentinel; --; created unique index pk
1,1,1
1"
}

# The quarantine keeps each column's declared type and collation (and no constraint), so that
# rows compare and sort there as in the table.
test_unique_quarantine_keeps_types_and_collations() {
  sqlite_run db <<'EOF2'
CREATE TABLE items (id INTEGER PRIMARY KEY, code VARCHAR(12) COLLATE NOCASE NOT NULL, price DECIMAL(10,2) CHECK (price > 0), note "my type", plain);
INSERT INTO items VALUES (1, 'A', 1.5, 'x', 1), (2, 'a', 2, 'y', 2);
EOF2
  expect_ok ""
  sqlite_q db "SELECT migrate_add_unique('items', 'code', NULL, 'keep_first');
SELECT sql FROM sqlite_schema WHERE name = 'items_duplicates';
SELECT count(*) FROM items_duplicates WHERE code = 'A';
SELECT name, type FROM pragma_table_info('items_duplicates') ORDER BY cid;" "moved 1 duplicate rows of items to items_duplicates; created unique index items_code_key
CREATE TABLE \"items_duplicates\" (\"id\" INTEGER, \"code\" VARCHAR(12) COLLATE \"NOCASE\", \"price\" DECIMAL(10,2), \"note\" my type, \"plain\", migrate_moved_at TEXT)
1
id|INTEGER
code|VARCHAR(12)
price|DECIMAL(10,2)
note|my type
plain|
migrate_moved_at|TEXT"
}

# Expression keys: a unique index on the expression, the duplicate report grouped by the same
# expression; 'fail' changes nothing, keep_first and merge move exactly the extra rows.
test_unique_expression_keys() {
  sqlite_run db <<'EOF2'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, org INTEGER);
INSERT INTO users VALUES (1, 'a@x', 1), (2, 'A@x', 1), (3, 'b@x', 1), (4, 'a@X', 2);
CREATE TABLE posts (user_id INTEGER REFERENCES users ON DELETE CASCADE);
INSERT INTO posts VALUES (4), (2), (3);
EOF2
  expect_ok ""
  dump db
  local before=$DUMP
  sqlite_q db "SELECT * FROM migrate_duplicates('users', 'lower(email)');
SELECT * FROM migrate_duplicates('users', ' org , lower(email) ');" "a@x|3|1, 2, 4
1, a@x|2|1, 2"
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'lower(email)');"
  expect_error "cannot make users (lower(email)) unique: 1 duplicate group, 3 rows; nothing was changed
lower(email) 'a@x' appears 3 times
HINT: SELECT * FROM migrate_duplicates('users', 'lower(email)') lists every group; on_duplicate 'keep_first' or 'keep_last' moves the other rows of each group to users_duplicates"
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'lower(email); DROP TABLE users');"
  expect_error "the expression holds a ';': it must be one SQL expression, not statements"
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'lower(nope)');"
  expect_error "no such column: nope"
  dump db
  expect_eq "database after the refused calls" "$before" "$DUMP"
  sqlite_q db "PRAGMA foreign_keys = ON;
SELECT migrate_add_unique('users', 'org, lower(email)', NULL, 'merge');
SELECT sql FROM sqlite_schema WHERE name = 'users_org_lower_email_key';
SELECT group_concat(id, ',') FROM users_duplicates;
SELECT group_concat(user_id, ',') FROM posts;
SELECT migrate_add_unique('users', 'org, lower(email)');
SELECT migrate_add_unique('users', 'org, upper(email)', 'users_org_lower_email_key');" \
"moved 1 duplicate rows of users to users_duplicates; re-pointed 1 row of posts; created unique index users_org_lower_email_key
CREATE UNIQUE INDEX \"users_org_lower_email_key\" ON \"users\" (\"org\", (lower(email)))
2
4,1,3
unique index users_org_lower_email_key on users already exists; nothing to do
unique index users_org_lower_email_key on users already exists; nothing to do"
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'lower(email)', 'users_org_lower_email_key');"
  expect_error "an index named users_org_lower_email_key already exists and is not a unique index on users of these columns: it covers other columns"
  sqlite_run db <<<"INSERT INTO users VALUES (9, 'A@X', 1);"
  expect_error "UNIQUE constraint failed: index 'users_org_lower_email_key'"
}

# Expression keys inside a migration applied by migrate_apply and in the caller's transaction.
test_unique_expression_in_migration_and_transaction() {
  put m/1_users.up.sql <<'EOF2'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
INSERT INTO users VALUES (1, 'a@x'), (2, 'A@X'), (3, 'b@x');
EOF2
  put m/2_lower.up.sql <<<"SELECT migrate_add_unique('users', 'lower(email)', NULL, 'keep_first');"
  sqlite_q db "BEGIN; SELECT migrate_apply('m'); ROLLBACK; SELECT count(*) FROM sqlite_schema;
SELECT migrate_apply('m');
SELECT group_concat(id, ',') FROM users; SELECT group_concat(id, ',') FROM users_duplicates;" "2
0
2
1,3
2"
}
