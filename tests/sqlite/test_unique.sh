# shellcheck shell=bash
# migrate_add_unique and migrate_duplicates: making columns of a table that already has data
# unique, and what happens to the rows that share a key.

# users: eight rows, ids inserted out of order so that rowid order is not insertion order;
# two duplicate groups on email ('a@x.com' x3, 'b@x.com' x2), two NULL emails, one clean row.
unique_users() {
  sqlite_run db <<'EOF'
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

# Clean data: a UNIQUE index named <table>_<cols>_key, visible in sqlite_schema and enforced; the
# table itself is not rebuilt (same definition, same root page).
test_unique_clean_data_creates_index() {
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
  sqlite_run db <<<"INSERT INTO users VALUES (4, 'a@x.com', 'y');"
  expect_error "UNIQUE constraint failed: users.email"

  # an index name of the caller's choosing; the 2-argument and 4-argument forms agree
  sqlite_q db "SELECT migrate_add_unique('users', 'name', 'users_by_name', 'fail');" \
    "created unique index users_by_name on users"
  sqlite_q db "SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name;" "users_by_name
users_email_key"
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'id', 'users_id_unique', NULL);"
  expect_ok "created unique index users_id_unique on users"
}

# Duplicates with 'fail' (the default): the error counts groups and rows and shows the keys;
# the database is exactly as it was (schema, rows, no quarantine table).
test_unique_duplicates_fail_changes_nothing() {
  unique_users
  sqlite_q db "SELECT count(*) FROM users; SELECT count(*) FROM sqlite_schema;" "8
1"
  dump db
  local before=$DUMP
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'email');"
  expect_error "$USERS_DUPLICATES_ERROR"
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'email', NULL, 'fail');"
  expect_error "$USERS_DUPLICATES_ERROR"
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'email', 'my_index');"
  expect_error "$USERS_DUPLICATES_ERROR"
  sqlite_q db "SELECT count(*) FROM users; SELECT count(*) FROM sqlite_schema;" "8
1"
  dump db
  expect_eq "database after the refused calls" "$before" "$DUMP"

  # past five groups the error says how many more there are
  sqlite_run db <<'EOF'
CREATE TABLE many (id INTEGER PRIMARY KEY, k INTEGER);
INSERT INTO many (k) VALUES (1), (1), (2), (2), (3), (3), (4), (4), (5), (5), (6), (6), (7), (7),
                            (7), (8);
EOF
  sqlite_run db <<<"SELECT migrate_add_unique('many', 'k');"
  expect_error "cannot make many (k) unique: 7 duplicate groups, 15 rows; nothing was changed
k '1' appears 2 times
k '2' appears 2 times
k '3' appears 2 times
k '4' appears 2 times
k '5' appears 2 times
... and 2 more groups
HINT: SELECT * FROM migrate_duplicates('many', 'k') lists every group; on_duplicate 'keep_first' or 'keep_last' moves the other rows of each group to many_duplicates"
}

# keep_first: the row with the lowest rowid of each group stays; the others, and only they,
# move to users_duplicates (same columns plus migrate_moved_at), and the index is created.
test_unique_keep_first() {
  unique_users
  sqlite_q db "SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');" \
    "moved 3 duplicate rows of users to users_duplicates; created unique index users_email_key"
  sqlite_run db <<EOF
SELECT * FROM users ORDER BY id;
SELECT '--';
SELECT id, email, name, migrate_moved_at GLOB '$ISO_GLOB' FROM users_duplicates ORDER BY id;
SELECT '--';
SELECT name FROM pragma_table_info('users_duplicates') ORDER BY cid;
SELECT count(DISTINCT migrate_moved_at) FROM users_duplicates;
SELECT name FROM sqlite_schema WHERE type = 'index';
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
  sqlite_q db "SELECT count(*) FROM (SELECT id, email, name FROM users UNION ALL
                             SELECT id, email, name FROM users_duplicates);" "8"
}

# keep_last: the row with the highest rowid of each group stays.
test_unique_keep_last() {
  unique_users
  sqlite_q db "SELECT migrate_add_unique('users', 'email', NULL, 'keep_last');" \
    "moved 3 duplicate rows of users to users_duplicates; created unique index users_email_key"
  sqlite_run db <<'EOF'
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
  # a second quarantine on another column adds to the same table
  sqlite_run db <<'EOF'
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

# A WITHOUT ROWID table: rows are identified, ordered and reported by primary key.
test_unique_keep_by_primary_key_without_rowid() {
  sqlite_run db <<'EOF'
CREATE TABLE w (code TEXT, n INTEGER, email TEXT, PRIMARY KEY (code, n)) WITHOUT ROWID;
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
# not duplicates, are not reported and are not moved.
test_unique_nulls_are_not_duplicates() {
  sqlite_run db <<'EOF'
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
  sqlite_q db "SELECT migrate_add_unique('t', 'c'); SELECT count(*) FROM t;
        SELECT count(*) FROM sqlite_schema WHERE name = 't_duplicates';" \
    "created unique index t_c_key on t
6
0"
  # and the indexes let more NULLs in
  sqlite_q db "INSERT INTO t VALUES (7, NULL, NULL, NULL); INSERT INTO t VALUES (8, 'x', NULL, NULL);
        SELECT count(*) FROM t WHERE c IS NULL;" "6"
}

# A COLLATE NOCASE column: 'a@x.com' and 'A@X.com' are duplicates to the index, so they are to
# the report, the error and the quarantine.
test_unique_nocase_collation() {
  sqlite_run db <<'EOF'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT COLLATE NOCASE);
INSERT INTO users VALUES (1, 'a@x.com'), (2, 'A@X.com'), (3, 'b@x.com'), (4, 'B@x.COM'),
                         (5, 'a@X.Com'), (6, 'c@x.com');
SELECT * FROM migrate_duplicates('users', 'email');
EOF
  expect_ok "a@x.com|3|1, 2, 5
b@x.com|2|3, 4"
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'email');"
  expect_error "cannot make users (email) unique: 2 duplicate groups, 5 rows; nothing was changed
email 'a@x.com' appears 3 times
email 'b@x.com' appears 2 times
HINT: SELECT * FROM migrate_duplicates('users', 'email') lists every group; on_duplicate 'keep_first' or 'keep_last' moves the other rows of each group to users_duplicates"
  sqlite_q db "SELECT count(*) FROM users;" "6"
  sqlite_q db "SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');
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
  sqlite_run db <<<"INSERT INTO users VALUES (7, 'C@X.COM');"
  expect_error "UNIQUE constraint failed: users.email"
}

# Several columns: the key is the combination, in the order given (white space trimmed); the
# error shows the columns and the values, the report joins the values with ", ".
test_unique_multi_column() {
  sqlite_run db <<'EOF'
CREATE TABLE members (id INTEGER PRIMARY KEY, org INTEGER, email TEXT);
INSERT INTO members VALUES (1, 1, 'a@x.com'), (2, 2, 'a@x.com'), (3, 1, 'a@x.com'),
                           (4, 1, 'b@x.com'), (5, 2, 'a@x.com'), (6, 2, 'b@x.com');
SELECT * FROM migrate_duplicates('members', ' org ,email ');
EOF
  expect_ok "1, a@x.com|2|1, 3
2, a@x.com|2|2, 5"
  sqlite_run db <<<"SELECT migrate_add_unique('members', ' org ,email ');"
  expect_error "cannot make members (org, email) unique: 2 duplicate groups, 4 rows; nothing was changed
(org, email) ('1', 'a@x.com') appears 2 times
(org, email) ('2', 'a@x.com') appears 2 times
HINT: SELECT * FROM migrate_duplicates('members', 'org, email') lists every group; on_duplicate 'keep_first' or 'keep_last' moves the other rows of each group to members_duplicates"
  # each column alone has more duplicates; the pair is what counts
  sqlite_q db "SELECT migrate_add_unique('members', 'org, email', NULL, 'keep_last');
        SELECT id FROM members ORDER BY id; SELECT '--';
        SELECT id FROM members_duplicates ORDER BY id; SELECT '--';
        SELECT seqno, name FROM pragma_index_info('members_org_email_key');" \
    "moved 2 duplicate rows of members to members_duplicates; created unique index members_org_email_key
3
4
5
6
--
1
2
--
0|org
1|email"
  sqlite_q db "INSERT INTO members VALUES (7, 3, 'a@x.com'); SELECT count(*) FROM members;" "5"
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

# Inside the caller's transaction: ROLLBACK undoes the index, the moved rows and the quarantine
# table; COMMIT keeps them; a refused call leaves the caller's own earlier work in place.
test_unique_caller_transaction() {
  unique_users
  dump db
  local before=$DUMP
  sqlite_run db <<'EOF'
BEGIN;
SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');
SELECT count(*) FROM users;
SELECT count(*) FROM sqlite_schema;
ROLLBACK;
SELECT count(*) FROM users;
SELECT count(*) FROM sqlite_schema;
EOF
  expect_ok "moved 3 duplicate rows of users to users_duplicates; created unique index users_email_key
5
3
8
1"
  dump db
  expect_eq "database after ROLLBACK" "$before" "$DUMP"

  sqlite_run db <<'EOF'
BEGIN;
SELECT migrate_add_unique('users', 'email', NULL, 'keep_last');
COMMIT;
SELECT count(*) FROM users;
SELECT count(*) FROM users_duplicates;
SELECT name FROM sqlite_schema WHERE type = 'index';
EOF
  expect_ok "moved 3 duplicate rows of users to users_duplicates; created unique index users_email_key
5
3
users_email_key"

  # a refused call inside a transaction undoes only itself
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

# Inside a migration applied by migrate_apply: recorded like any migration; when it refuses,
# the whole apply is undone and the error names the migration.
test_unique_inside_migration() {
  put m/1_users.up.sql <<'EOF'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
INSERT INTO users VALUES (1, 'a@x.com'), (2, 'b@x.com');
EOF
  put m/2_unique_email.up.sql <<<"SELECT migrate_add_unique('users', 'email');"
  sqlite_q db "SELECT migrate_apply('m');" "2"
  sqlite_run db <<'EOF'
SELECT version, name, direction, success FROM migrate_history ORDER BY id;
SELECT version, state FROM migrations_status('m');
SELECT type, name, tbl_name FROM sqlite_schema WHERE type = 'index';
EOF
  expect_ok "1|users|up|1
2|unique_email|up|1
1|applied
2|applied
index|users_email_key|users"

  # the same folder with a duplicate: migration 1 is undone with 2 (and so is the history
  # table the call created)
  rm db
  put m/1_users.up.sql <<'EOF'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
INSERT INTO users VALUES (1, 'a@x.com'), (2, 'b@x.com'), (3, 'a@x.com');
EOF
  put m/2_unique_email.up.sql <<'EOF'
-- one row per email from now on
SELECT migrate_add_unique('users', 'email');
EOF
  sqlite_run --no-bail db <<'EOF'
SELECT migrate_apply('m');
SELECT count(*) FROM sqlite_schema;
SELECT version, state FROM migrations_status('m');
EOF
  expect_error "migration 2 (2_unique_email.up.sql, line 2): cannot make users (email) unique: 1 duplicate group, 2 rows; nothing was changed
email 'a@x.com' appears 2 times
HINT: SELECT * FROM migrate_duplicates('users', 'email') lists every group; on_duplicate 'keep_first' or 'keep_last' moves the other rows of each group to users_duplicates" "0
1|pending
2|pending"

  # keep_first inside a migration moves the rows as part of that migration
  put m/2_unique_email.up.sql <<<"SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');"
  sqlite_q db "SELECT migrate_apply('m'); SELECT id FROM users ORDER BY id;
        SELECT id FROM users_duplicates; SELECT count(*) FROM migrate_history;" "2
1
2
3
2"
}

# Hostile identifiers: names with double quotes, single quotes, semicolons, "--" and spaces are
# names, never SQL: the sentinel survives, and the report, the error, the quarantine and the
# index all work with them.
test_unique_hostile_identifiers() {
  sqlite_run db <<'EOF'
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
  sqlite_run db <<<"SELECT migrate_add_unique('we\"ird''; DROP TABLE sentinel; -- t', 'e\"m''a;il -- x');"
  expect_error "cannot make we\"ird'; DROP TABLE sentinel; -- t (e\"m'a;il -- x) unique: 1 duplicate group, 3 rows; nothing was changed
e\"m'a;il -- x 'a''b\"c' appears 3 times
HINT: SELECT * FROM migrate_duplicates('we\"ird''; DROP TABLE sentinel; -- t', 'e\"m''a;il -- x') lists every group; on_duplicate 'keep_first' or 'keep_last' moves the other rows of each group to we\"ird'; DROP TABLE sentinel; -- t_duplicates"
  sqlite_run db <<'EOF'
SELECT migrate_add_unique('we"ird''; DROP TABLE sentinel; -- t', 'e"m''a;il -- x, full name',
                          'i"dx''; DROP TABLE sentinel; --', 'keep_first');
SELECT migrate_add_unique('we"ird''; DROP TABLE sentinel; -- t', 'e"m''a;il -- x', NULL,
                          'keep_last');
SELECT * FROM "we""ird'; DROP TABLE sentinel; -- t" ORDER BY id;
SELECT '--';
SELECT id, "e""m'a;il -- x", "full name" FROM "we""ird'; DROP TABLE sentinel; -- t_duplicates"
 ORDER BY id;
SELECT '--';
SELECT type, name FROM sqlite_schema ORDER BY type, name;
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
index|i\"dx'; DROP TABLE sentinel; --
index|we\"ird'; DROP TABLE sentinel; -- t_e\"m'a;il -- x_key
table|sentinel
table|we\"ird'; DROP TABLE sentinel; -- t
table|we\"ird'; DROP TABLE sentinel; -- t_duplicates
--
1"
  # the indexes enforce what they say
  sqlite_run db <<<"INSERT INTO \"we\"\"ird'; DROP TABLE sentinel; -- t\" VALUES (5, 'c', 'q');"
  expect_error "UNIQUE constraint failed: we\"ird'; DROP TABLE sentinel; -- t.e\"m'a;il -- x"
  # idempotent with such names too
  sqlite_q db "SELECT migrate_add_unique('we\"ird''; DROP TABLE sentinel; -- t', 'e\"m''a;il -- x');" \
    "unique index we\"ird'; DROP TABLE sentinel; -- t_e\"m'a;il -- x_key on we\"ird'; DROP TABLE sentinel; -- t already exists; nothing to do"
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

# Errors name what is missing; a table name is a name, not schema.table; empty or repeated
# columns are refused. Nothing is created.
test_unique_missing_table_or_column() {
  unique_users
  sqlite_run db <<<"SELECT migrate_add_unique('nope', 'email');"
  expect_error 'table "nope" does not exist'
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'nope');"
  expect_error 'column "nope" does not exist in table "users"'
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'email, nope', NULL, 'keep_first');"
  expect_error 'column "nope" does not exist in table "users"'
  sqlite_run db <<<"SELECT migrate_add_unique('main.users', 'email');"
  expect_error 'table "main.users" does not exist'
  sqlite_run db <<<"SELECT * FROM migrate_duplicates('nope', 'email');"
  expect_error 'table "nope" does not exist'
  sqlite_run db <<<"SELECT * FROM migrate_duplicates('users', 'mail');"
  expect_error 'column "mail" does not exist in table "users"'
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'email,,name');"
  expect_error 'column list "email,,name" has an empty column name'
  sqlite_run db <<<"SELECT migrate_add_unique('users', '');"
  expect_error 'column list "" has an empty column name'
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'email, email');"
  expect_error 'column list "email, email" names column "email" twice'
  sqlite_run db <<<"SELECT migrate_add_unique('users', NULL);"
  expect_error 'migrate_add_unique needs a list of columns'
  sqlite_run db <<<"SELECT migrate_add_unique(NULL, 'email');"
  expect_error 'migrate_add_unique needs a table name'
  # a view is not a table
  sqlite_run db <<<"CREATE VIEW v AS SELECT * FROM users; SELECT migrate_add_unique('v', 'email');"
  expect_error 'table "v" does not exist'
  sqlite_q db "SELECT type, name FROM sqlite_schema ORDER BY name;" "table|users
view|v"
}

# A second call is a no-op; an index of that name that is something else is an error.
test_unique_idempotent() {
  sqlite_run db <<'EOF'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT);
CREATE TABLE other (email TEXT);
INSERT INTO users VALUES (1, 'a@x.com', 'x'), (2, 'b@x.com', 'x');
SELECT migrate_add_unique('users', 'email');
SELECT migrate_add_unique('users', 'email');
SELECT migrate_add_unique('users', 'email', 'users_email_key', 'keep_first');
SELECT count(*) FROM sqlite_schema WHERE type = 'index';
EOF
  expect_ok "created unique index users_email_key on users
unique index users_email_key on users already exists; nothing to do
unique index users_email_key on users already exists; nothing to do
1"
  # with duplicates present (another column), an existing identical index is still a no-op
  sqlite_q db "SELECT migrate_add_unique('users', 'email');" \
    "unique index users_email_key on users already exists; nothing to do"

  # a different index under the name the call would use
  sqlite_run db <<<"CREATE INDEX users_name_key ON users (name);
SELECT migrate_add_unique('users', 'name');"
  expect_error "an index named users_name_key already exists and is not a unique index on users of these columns: it is not unique"
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'name', 'users_email_key');"
  expect_error "an index named users_email_key already exists and is not a unique index on users of these columns: it covers other columns"
  sqlite_run db <<<"SELECT migrate_add_unique('users', 'email, name', 'users_email_key');"
  expect_error "an index named users_email_key already exists and is not a unique index on users of these columns: it covers other columns"
  sqlite_run db <<<"CREATE UNIQUE INDEX elsewhere ON other (email);
SELECT migrate_add_unique('users', 'email', 'elsewhere');"
  expect_error "an index named elsewhere already exists and is not a unique index on users of these columns: it is on table other"
  sqlite_run db <<<"CREATE UNIQUE INDEX users_partial ON users (id) WHERE id > 0;
SELECT migrate_add_unique('users', 'id', 'users_partial');"
  expect_error "an index named users_partial already exists and is not a unique index on users of these columns: it is partial"
  sqlite_q db "SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name;
        SELECT count(*) FROM users;" "elsewhere
users_email_key
users_name_key
users_partial
2"
}

# on_duplicate takes 'fail', 'keep_first', 'keep_last' or 'merge', exactly; anything else changes nothing.
test_unique_bad_on_duplicate() {
  unique_users
  dump db
  local before=$DUMP
  local value
  for value in KEEP_FIRST keep first "" skip; do
    sqlite_run db <<<"SELECT migrate_add_unique('users', 'email', NULL, '$value');"
    expect_error "on_duplicate must be 'fail', 'keep_first', 'keep_last' or 'merge', not '$value'"
  done
  # checked before the table is looked at
  sqlite_run db <<<"SELECT migrate_add_unique('nope', 'email', NULL, 'drop');"
  expect_error "on_duplicate must be 'fail', 'keep_first', 'keep_last' or 'merge', not 'drop'"
  dump db
  expect_eq "database after the refused calls" "$before" "$DUMP"
}

# migrate_duplicates: one row per group (key, count, rows), groups ordered by key as the column
# compares (numbers as numbers), rows by identity (5 before 11); nothing for a clean column; the
# report changes nothing, and keep_first then keeps the row it lists first.
test_unique_duplicates_report() {
  sqlite_run db <<'EOF'
CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, s TEXT);
INSERT INTO t VALUES (20, 10, 'c'), (3, 9, 'B'), (11, 10, 'a'), (4, 9, 'B'), (5, 100, 'a'),
                     (1, 10, 'c'), (6, 7, 'z'), (2, 9, 'c');
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
  # the hidden arguments can be named as columns too
  sqlite_q db "SELECT key FROM migrate_duplicates WHERE \"table\" = 't' AND columns = 's';" "B
a
c"
  # keep_first keeps the first row by rowid (5 before 11), as the report lists them
  sqlite_q db "SELECT migrate_add_unique('t', 's', NULL, 'keep_first'); SELECT id, s FROM t ORDER BY id;" \
    "moved 4 duplicate rows of t to t_duplicates; created unique index t_s_key
1|c
3|B
5|a
6|z"
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

# A users_duplicates the call did not create is written into only when nothing of it would run
# or land elsewhere: one with a trigger is refused, naming it and why, and nothing changes (the
# trigger does not run); one whose columns are another set is refused; one with the same
# columns in another order is filled by column name.
test_unique_precreated_quarantine() {
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

  # another set of columns
  sqlite_run db <<'EOF2'
DROP TABLE users_duplicates;
CREATE TABLE users_duplicates (id INTEGER, email TEXT, migrate_moved_at TEXT, extra TEXT);
SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');
EOF2
  expect_error "refusing to move duplicate rows of users into the existing table users_duplicates: its columns are not the columns of the table plus migrate_moved_at; nothing was changed"

  # the same columns in another order: each value lands in its own column
  sqlite_run db <<'EOF2'
DROP TABLE users_duplicates;
CREATE TABLE users_duplicates (name TEXT, migrate_moved_at TEXT, email TEXT, id INTEGER);
SELECT migrate_add_unique('users', 'email', NULL, 'keep_first');
SELECT id, email, name FROM users_duplicates ORDER BY id;
SELECT count(*) FROM spy;
EOF2
  expect_ok "moved 3 duplicate rows of users to users_duplicates; created unique index users_email_key
3|a@x.com|a3
6|a@x.com|a6
7|b@x.com|b7
0"
}

# Each function names itself when an argument is missing, and both refuse the tool's own tables.
test_unique_names_and_own_tables() {
  unique_users
  sqlite_run db <<<"SELECT * FROM migrate_duplicates(NULL, NULL);"
  expect_error 'migrate_duplicates needs a table name'
  sqlite_run db <<<"SELECT * FROM migrate_duplicates('users', NULL);"
  expect_error 'migrate_duplicates needs a list of columns'
  sqlite_run db <<<"SELECT * FROM migrate_duplicates('users', 'email,');"
  expect_error 'column list "email," has an empty column name'
  sqlite_q db "SELECT migrate_init();" "ok"
  dump db
  local before=$DUMP
  sqlite_run db <<<"SELECT migrate_add_unique('migrate_history', 'name', NULL, 'keep_first');"
  expect_error "migrate_add_unique refuses table migrate_history: it is one of migrate's own tables, which only migrate itself changes; nothing was changed"
  sqlite_run db <<<"SELECT migrate_add_unique('MIGRATE_SCRIPTS', 'name');"
  expect_error "migrate_add_unique refuses table MIGRATE_SCRIPTS: it is one of migrate's own tables, which only migrate itself changes; nothing was changed"
  sqlite_run db <<<"SELECT * FROM migrate_duplicates('migrate_scripts', 'name');"
  expect_error "migrate_duplicates refuses table migrate_scripts: it is one of migrate's own tables, which only migrate itself changes; nothing was changed"
  dump db
  expect_eq "database after the refusals" "$before" "$DUMP"
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
  # clean data: the index alone
  sqlite_q db "CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT); CREATE TABLE c (t_id REFERENCES t);
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
