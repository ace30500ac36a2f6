# shellcheck shell=bash
# migrate_nulls, migrate_set_not_null and migrate_rebuild: changing columns of tables that hold
# data, with the rows checked first and no cascade ever firing.

# people: five rows, two with a NULL email; nick is NULL where email is.
columns_people() {
  sqlite_run db <<'EOF'
CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, name TEXT NOT NULL, nick TEXT);
INSERT INTO people VALUES (5, 'e@x', 'E', 'e'), (2, NULL, 'B', NULL), (3, 'c@x', 'C', 'c'),
                          (4, NULL, 'D', NULL), (1, 'a@x', 'A', 'a');
CREATE INDEX people_email ON people (lower(email)) WHERE email IS NOT NULL;
CREATE TRIGGER people_touch AFTER UPDATE OF name ON people BEGIN SELECT 1; END;
EOF
  expect_ok ""
}

PEOPLE_NULLS_ERROR="cannot make column email of people NOT NULL: 2 rows hold NULL; nothing was changed
rows 2, 4
HINT: SELECT * FROM migrate_nulls('people', 'email') lists every row; fill gives them a value, on_null 'quarantine' moves them to people_nulls"

# migrate_nulls lists the rows by identity with the total; an unknown table or column is named.
test_nulls_lists_rows() {
  columns_people
  sqlite_q db "SELECT * FROM migrate_nulls('people', 'email');
SELECT count(*) FROM migrate_nulls('people', 'name');" "2|2
4|2
0"
  sqlite_run db <<<"SELECT * FROM migrate_nulls('people', 'nope');"
  expect_error 'column "nope" does not exist in table "people"'
  sqlite_run db <<<"SELECT * FROM migrate_nulls('nope', 'x');"
  expect_error 'table "nope" does not exist'
  sqlite_run db <<<"SELECT * FROM migrate_nulls('people');"
  expect_error "migrate_nulls needs 2 arguments"
}

# NULLs with on_null 'fail' (the default): the rows are counted and named, nothing changes.
test_set_not_null_fail_changes_nothing() {
  columns_people
  dump db
  local before=$DUMP
  sqlite_run db <<<"SELECT migrate_set_not_null('people', 'email');"
  expect_error "$PEOPLE_NULLS_ERROR"
  sqlite_run db <<<"SELECT migrate_set_not_null('people', 'email', NULL, 'fail');"
  expect_error "$PEOPLE_NULLS_ERROR"
  # a fill that leaves NULLs says so
  sqlite_run db <<<"SELECT migrate_set_not_null('people', 'email', 'nick');"
  expect_error "cannot make column email of people NOT NULL: 2 rows hold NULL after the fill; nothing was changed
rows 2, 4
HINT: SELECT * FROM migrate_nulls('people', 'email') lists every row; fill gives them a value, on_null 'quarantine' moves them to people_nulls"
  dump db
  expect_eq "database after the refused calls" "$before" "$DUMP"
}

# Clean data: the column becomes NOT NULL, the table keeps its rows, rowids, index and trigger;
# a second call has nothing to do.
test_set_not_null_clean_and_idempotent() {
  columns_people
  sqlite_q db "SELECT migrate_set_not_null('people', 'name');" "column name of people is already NOT NULL; nothing to do"
  sqlite_q db "UPDATE people SET email = 'x' || id WHERE email IS NULL;
SELECT migrate_set_not_null('people', 'email');
SELECT \"notnull\" FROM pragma_table_info('people') WHERE name = 'email';
SELECT group_concat(id || email, ',') FROM (SELECT * FROM people ORDER BY rowid);
SELECT type, name FROM sqlite_schema WHERE tbl_name = 'people' ORDER BY type, name;
SELECT migrate_set_not_null('people', 'email');" "column email of people is NOT NULL
1
1a@x,2x2,3c@x,4x4,5e@x
index|people_email
table|people
trigger|people_touch
column email of people is already NOT NULL; nothing to do"
  sqlite_run db <<<"INSERT INTO people (id, name) VALUES (9, 'N');"
  expect_error "NOT NULL constraint failed: people.email"
}

# The path follows the library the process runs, read at the call: ALTER TABLE ... ALTER COLUMN
# ... SET NOT NULL from 3.53.0 (make sqlite-test-latest runs this with such a library), which
# changes the table in place and keeps its root page; before 3.53.0 the rebuild, which makes a
# new table. Either way the stored definition has the NOT NULL and the rows, index and trigger
# stay.
test_set_not_null_path_follows_library() {
  columns_people
  sqlite_run --no-load db <<<"SELECT sqlite_version(); SELECT rootpage FROM sqlite_schema WHERE name = 'people';"
  local version=${OUT%%$'\n'*} root=${OUT##*$'\n'}
  local number
  number=$(awk -F. '{ printf "%d", $1 * 1000000 + $2 * 1000 + $3 }' <<<"$version")
  sqlite_q db "UPDATE people SET email = 'x' || id WHERE email IS NULL;
SELECT migrate_set_not_null('people', 'email');
SELECT \"notnull\" FROM pragma_table_info('people') WHERE name = 'email';
SELECT count(*) FROM people;
SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE tbl_name = 'people' ORDER BY name);" "column email of people is NOT NULL
1
5
people,people_email,people_touch"
  sqlite_run --no-load db <<<"SELECT rootpage FROM sqlite_schema WHERE name = 'people';"
  if [ "$number" -ge 3053000 ]; then
    expect_eq "SQLite $version: ALTER COLUMN kept the table's root page" "$root" "$OUT"
  else
    [ "$OUT" != "$root" ] || fail "SQLite $version: the rebuild should have made a new table (root page $root)"
  fi
}

# fill: an expression of the row's other columns or a subquery, evaluated per row.
test_set_not_null_fill() {
  columns_people
  sqlite_q db "CREATE TABLE defaults (k TEXT, v TEXT); INSERT INTO defaults VALUES ('mail', '@example');
SELECT migrate_set_not_null('people', 'email', 'lower(name) || (SELECT v FROM defaults WHERE k = ''mail'')');
SELECT id, email FROM people ORDER BY id;
SELECT count(*) FROM sqlite_schema WHERE name = 'people_nulls';" "column email of people is NOT NULL; filled 2 rows
1|a@x
2|b@example
3|c@x
4|d@example
5|e@x
0"
}

# on_null 'quarantine': exactly the rows still NULL move to <table>_nulls, with the time.
test_set_not_null_quarantine() {
  columns_people
  sqlite_q db "SELECT migrate_set_not_null('people', 'email', NULL, 'quarantine');
SELECT id, name, migrate_moved_at GLOB '$ISO_GLOB' FROM people_nulls ORDER BY id;
SELECT group_concat(id, ',') FROM people;
SELECT \"notnull\" FROM pragma_table_info('people') WHERE name = 'email';" "column email of people is NOT NULL; moved 2 rows to people_nulls
2|B|1
4|D|1
1,3,5
1"
}

# Bad arguments are refused before anything is read; the fill must be one expression.
test_set_not_null_bad_arguments() {
  columns_people
  sqlite_run db <<<"SELECT migrate_set_not_null('people', 'email', NULL, 'drop');"
  expect_error "on_null must be 'fail' or 'quarantine', not 'drop'"
  sqlite_run db <<<"SELECT migrate_set_not_null('people', 'email', '1; DROP TABLE people');"
  expect_error "fill holds a ';': it must be one SQL expression, not statements"
  sqlite_run db <<<"SELECT migrate_set_not_null('people', 'email', '1) WHERE 0 --');"
  expect_error "fill has unbalanced parentheses: it must be one SQL expression"
  sqlite_run db <<<"SELECT migrate_set_not_null('people', 'email', '''open');"
  expect_error "fill ends inside a string literal: it must be one SQL expression"
  sqlite_run db <<<"SELECT migrate_set_not_null('people', 'email', '\$a');"
  expect_error "fill holds a '\$' outside quotes: write the expression without dollar quotes or parameters"
  sqlite_run db <<<"SELECT migrate_set_not_null('people', NULL);"
  expect_error "migrate_set_not_null needs a column name"
  sqlite_run db <<<"SELECT migrate_set_not_null('people', 'email', 'no_such_column');"
  expect_error "could not fill column email of people: no such column: no_such_column; nothing was changed"
  sqlite_run db <<<"SELECT migrate_init(); SELECT migrate_set_not_null('migrate_history', 'name');"
  expect_error "migrate_set_not_null refuses table migrate_history: it is one of migrate's own tables, which only migrate itself changes; nothing was changed" "ok"
  sqlite_q db "SELECT count(*) FROM people WHERE email IS NULL;" "2"
}

# A parent with ON DELETE CASCADE children, enforcement on: the rebuild changes the parent's
# definition and the children keep every row; AUTOINCREMENT's counter, the partial and
# expression indexes, the trigger and the view survive.
test_rebuild_parent_with_cascading_children() {
  sqlite_run db <<'EOF'
CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT, age INTEGER);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE);
CREATE INDEX users_lower_email ON users (lower(email));
CREATE INDEX users_adults ON users (age) WHERE age >= 18;
CREATE TABLE audit (what TEXT);
CREATE TRIGGER users_audit AFTER UPDATE ON users BEGIN INSERT INTO audit VALUES (NEW.email); END;
CREATE VIEW adults AS SELECT id, email FROM users WHERE age >= 18;
INSERT INTO users (email, age) VALUES ('a@x', 30), ('B@x', 12), ('c@x', 40), ('gone', 1);
DELETE FROM users WHERE email = 'gone';
INSERT INTO posts (user_id) VALUES (1), (1), (2), (3);
EOF
  expect_ok ""
  sqlite_q db "PRAGMA foreign_keys = ON;
SELECT count(*) FROM posts;
SELECT migrate_rebuild('users', 'CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL COLLATE NOCASE, age INTEGER CHECK (age >= 0))');
PRAGMA foreign_keys;
SELECT count(*) FROM posts;
SELECT seq FROM sqlite_sequence WHERE name = 'users';
SELECT type, name FROM sqlite_schema WHERE tbl_name = 'users' ORDER BY type, name;
SELECT sql FROM sqlite_schema WHERE name = 'users';
SELECT id, email FROM adults ORDER BY id;
SELECT id FROM users WHERE email = 'b@X';
UPDATE users SET email = 'A@x' WHERE id = 1; SELECT * FROM audit;
INSERT INTO users (email, age) VALUES ('d@x', 50); SELECT max(id) FROM users;
PRAGMA foreign_key_check;" "4
rebuilt users: copied 3 rows, recreated 3 of its indexes and triggers
1
4
4
index|users_adults
index|users_lower_email
table|users
trigger|users_audit
CREATE TABLE \"users\" (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL COLLATE NOCASE, age INTEGER CHECK (age >= 0))
1|a@x
3|c@x
2
A@x
5"
}

# WITHOUT ROWID tables and generated columns: copied by name, generated values computed anew.
test_rebuild_without_rowid_and_generated() {
  sqlite_q db "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER, twice INTEGER GENERATED ALWAYS AS (v * 2) VIRTUAL) WITHOUT ROWID;
CREATE TABLE r (a INTEGER, b TEXT);
INSERT INTO kv (k, v) VALUES ('a', 1), ('b', 2);
SELECT migrate_rebuild('kv', 'CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL, thrice INTEGER GENERATED ALWAYS AS (v * 3) STORED) WITHOUT ROWID');
SELECT k, v, thrice FROM kv ORDER BY k;
INSERT INTO r VALUES (10, 'x'), (20, 'y'); DELETE FROM r WHERE a = 10; INSERT INTO r VALUES (30, 'z');
SELECT group_concat(rowid || ':' || a, ',') FROM r;
SELECT migrate_rebuild('r', '(a INTEGER NOT NULL, b TEXT COLLATE NOCASE)');
SELECT group_concat(rowid || ':' || a, ',') FROM r;" "rebuilt kv: copied 2 rows, recreated 0 of its indexes and triggers
a|1|3
b|2|6
2:20,3:30
rebuilt r: copied 2 rows, recreated 0 of its indexes and triggers
2:20,3:30"
}

# A rebuild that would break a foreign key, a view or an index is refused, naming it; a column
# that holds values is dropped only when drop_columns names it.
test_rebuild_refusals_change_nothing() {
  sqlite_run db <<'EOF'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER, note TEXT);
CREATE INDEX posts_note ON posts (note);
CREATE VIEW notes AS SELECT note FROM posts;
INSERT INTO users VALUES (1, 'a');
INSERT INTO posts VALUES (1, 1, 'x'), (2, 7, NULL), (3, 1, NULL);
EOF
  expect_ok ""
  dump db
  local before=$DUMP
  sqlite_run db <<<"SELECT migrate_rebuild('posts', 'CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), note TEXT)');"
  expect_error "refusing to rebuild posts: it would leave 1 foreign key violation; nothing was changed
table posts row 2 references a missing row of users (foreign key 0)"
  sqlite_run db <<<"SELECT migrate_rebuild('posts', 'CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER)');"
  expect_error "refusing to rebuild posts: the new definition drops column note, which holds values in 1 row; nothing was changed
HINT: name it in drop_columns to drop its values: migrate_rebuild(table, new_definition, 'note')"
  sqlite_run db <<<"SELECT migrate_rebuild('posts', 'CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER)', 'note');"
  expect_error "refusing to rebuild posts: the new definition breaks posts_note: no such column: note; nothing was changed"
  sqlite_run db <<<"SELECT migrate_rebuild('posts', 'CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER, note TEXT NOT NULL)');"
  expect_error "refusing to rebuild posts: its rows do not fit the new definition: NOT NULL constraint failed: posts_migrate_new.note; nothing was changed"
  sqlite_run db <<<"SELECT migrate_rebuild('posts', 'CREATE TABLE other (id INTEGER)');"
  expect_error "the new definition creates table \"other\", not posts; nothing was changed"
  sqlite_run db <<<"SELECT migrate_rebuild('posts', 'CREATE TABLE posts (id INTEGER); DROP TABLE users');"
  expect_error "the new definition must be one CREATE TABLE statement, not several"
  sqlite_run db <<<"SELECT migrate_rebuild('posts', 'CREATE TABLE posts AS SELECT 1');"
  expect_error "the new definition must give the table's columns in parentheses (CREATE TABLE ... AS SELECT is not accepted)"
  sqlite_run db <<<"SELECT migrate_rebuild('posts', 'CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER, note TEXT)', 'user_id');"
  expect_error "drop_columns names \"user_id\", which is not a column of posts that the new definition drops; nothing was changed"
  dump db
  expect_eq "database after the refused rebuilds" "$before" "$DUMP"
  # the view breaks once the index is gone too
  sqlite_run db <<<"DROP INDEX posts_note; SELECT migrate_rebuild('posts', 'CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER)', 'note');"
  expect_error "refusing to rebuild posts: it would leave 1 broken view; nothing was changed
view main.notes: no such column: note"
  sqlite_q db "DROP VIEW notes; SELECT migrate_rebuild('posts', 'CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER)', 'note');
SELECT count(*) FROM posts;" "rebuilt posts: copied 3 rows, recreated 0 of its indexes and triggers
3"
}

# Inside the caller's transaction: with enforcement on and a child table, refused before
# anything is touched, saying why; with enforcement off it runs in that transaction.
test_rebuild_in_caller_transaction() {
  sqlite_run db <<'EOF'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id) ON DELETE CASCADE);
INSERT INTO users VALUES (1, 'a'), (2, NULL);
INSERT INTO posts VALUES (1, 1), (2, 2);
EOF
  expect_ok ""
  sqlite_run db <<<"PRAGMA foreign_keys = ON; BEGIN; SELECT migrate_rebuild('users', 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL DEFAULT '''')');"
  expect_error "refusing to rebuild users inside the caller's transaction: foreign keys are enforced and table posts references it, so dropping the old table would cascade to its rows or orphan them; nothing was changed
HINT: call it outside a transaction (it then switches enforcement off for the rebuild and checks every foreign key before it commits), or run PRAGMA foreign_keys = OFF before BEGIN"
  sqlite_q db "BEGIN; SELECT migrate_set_not_null('users', 'email', '''none''');
ROLLBACK; SELECT count(*) FROM users WHERE email IS NULL;
BEGIN; SELECT migrate_set_not_null('users', 'email', '''none''');
COMMIT; SELECT id, email FROM users; SELECT count(*) FROM posts;" "column email of users is NOT NULL; filled 1 row
1
column email of users is NOT NULL; filled 1 row
1|a
2|none
2"
}

# Inside a migration applied by migrate_apply, as part of its transaction; a refusal undoes the
# whole apply and names the migration.
test_columns_inside_migration() {
  put m/1_people.up.sql <<'EOF'
CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT);
INSERT INTO people VALUES (1, 'a'), (2, NULL);
EOF
  put m/2_not_null.up.sql <<<"SELECT migrate_set_not_null('people', 'email');"
  sqlite_run --no-bail db <<'EOF'
SELECT migrate_apply('m');
SELECT count(*) FROM sqlite_schema;
EOF
  expect_error "migration 2 (2_not_null.up.sql, line 1): cannot make column email of people NOT NULL: 1 row holds NULL; nothing was changed
rows 2
HINT: SELECT * FROM migrate_nulls('people', 'email') lists every row; fill gives them a value, on_null 'quarantine' moves them to people_nulls" "0"
  put m/2_not_null.up.sql <<'EOF'
SELECT migrate_set_not_null('people', 'email', '''unknown''');
SELECT migrate_rebuild('people', 'CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)');
EOF
  sqlite_q db "SELECT migrate_apply('m'); SELECT * FROM people; SELECT sql FROM sqlite_schema WHERE name = 'people';" "2
1|a
2|unknown
CREATE TABLE \"people\" (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE)"
}

# Hostile identifiers are names, never SQL: the sentinel survives every call.
test_columns_hostile_identifiers() {
  sqlite_run db <<'EOF'
CREATE TABLE sentinel (x INTEGER);
INSERT INTO sentinel VALUES (1);
CREATE TABLE "we""ird'; DROP TABLE sentinel; -- t" (id INTEGER PRIMARY KEY, "co""l'; --" TEXT);
INSERT INTO "we""ird'; DROP TABLE sentinel; -- t" VALUES (1, 'v'), (2, NULL);
EOF
  expect_ok ""
  sqlite_q db "SELECT * FROM migrate_nulls('we\"ird''; DROP TABLE sentinel; -- t', 'co\"l''; --');
SELECT migrate_set_not_null('we\"ird''; DROP TABLE sentinel; -- t', 'co\"l''; --', NULL, 'quarantine');
SELECT count(*) FROM \"we\"\"ird'; DROP TABLE sentinel; -- t_nulls\";
SELECT migrate_rebuild('we\"ird''; DROP TABLE sentinel; -- t', 'CREATE TABLE \"we\"\"ird''; DROP TABLE sentinel; -- t\" (id INTEGER PRIMARY KEY, \"co\"\"l''; --\" TEXT NOT NULL COLLATE NOCASE)');
SELECT \"notnull\" FROM pragma_table_info('we\"ird''; DROP TABLE sentinel; -- t');
SELECT x FROM sentinel;" "2|1
column co\"l'; -- of we\"ird'; DROP TABLE sentinel; -- t is NOT NULL; moved 1 row to we\"ird'; DROP TABLE sentinel; -- t_nulls
1
rebuilt we\"ird'; DROP TABLE sentinel; -- t: copied 1 row, recreated 0 of its indexes and triggers
0
1
1"
}

# migrate_add_column on clean data: the default, a fill from the row's columns (a row whose
# fill is NULL takes the default), NOT NULL from the start; rows inserted later take the default.
test_add_column_clean() {
  columns_people
  sqlite_q db "SELECT migrate_add_column('people', 'score', 'INTEGER', NULL, '0');
SELECT migrate_add_column('people', 'handle', 'TEXT COLLATE NOCASE', 'nick || ''!''', '''anon''');
SELECT group_concat(id || ':' || score || ':' || handle, ',') FROM (SELECT * FROM people ORDER BY id);
SELECT name, type, \"notnull\", dflt_value FROM pragma_table_info('people') WHERE name IN ('score', 'handle');
INSERT INTO people (id, name) VALUES (9, 'N');
SELECT score, handle FROM people WHERE id = 9;
SELECT count(*) FROM people WHERE handle = 'ANON';
SELECT type, name FROM sqlite_schema WHERE tbl_name = 'people' ORDER BY type, name;" \
"added column score INTEGER NOT NULL to people; gave the default to 5 rows
added column handle TEXT COLLATE NOCASE NOT NULL to people; filled 5 rows
1:0:a!,2:0:anon,3:0:c!,4:0:anon,5:0:e!
score|INTEGER|1|0
handle|TEXT|1|'anon'
0|anon
3
index|people_email
table|people
trigger|people_touch"
  sqlite_run db <<<"UPDATE people SET score = NULL WHERE id = 1;"
  expect_error "NOT NULL constraint failed: people.score"
  # an empty table needs no value (made by hand after a fingerprint, it would be drift)
  sqlite_q db "DROP TABLE migrate_schema_history; CREATE TABLE empty (id INTEGER PRIMARY KEY); SELECT migrate_add_column('empty', 'x', 'TEXT');
SELECT \"notnull\" FROM pragma_table_info('empty') WHERE name = 'x';" "added column x TEXT NOT NULL to empty
1"
}

# Rows left NULL ('fail' semantics): the error counts and names them, and nothing changed.
test_add_column_fail_changes_nothing() {
  columns_people
  dump db
  local before=$DUMP
  sqlite_run db <<<"SELECT migrate_add_column('people', 'handle', 'TEXT', 'nick');"
  expect_error "cannot add column handle to people as NOT NULL: 2 rows hold NULL after the fill; nothing was changed
rows 2, 4
HINT: SELECT * FROM migrate_nulls('people', 'handle') lists every row; give fill (or default) a value for every row, or add the column nullable and then use migrate_set_not_null with on_null 'quarantine' to move them to people_nulls"
  sqlite_run db <<<"SELECT migrate_add_column('people', 'handle', 'TEXT');"
  expect_error "cannot add column handle to people as NOT NULL: 5 rows hold NULL; nothing was changed
rows 1, 2, 3, 4, 5
HINT: SELECT * FROM migrate_nulls('people', 'handle') lists every row; give fill (or default) a value for every row, or add the column nullable and then use migrate_set_not_null with on_null 'quarantine' to move them to people_nulls"
  sqlite_run db <<<"SELECT migrate_add_column('people', 'email', 'TEXT', '''x''');"
  expect_error "could not add column email of people: duplicate column name: email; nothing was changed"
  sqlite_run db <<<"SELECT migrate_add_column('people', 'h', 'TEXT', NULL, '1); DROP TABLE people; --');"
  expect_error "default holds a ';': it must be one SQL expression, not statements"
  sqlite_run db <<<"SELECT migrate_add_column('people', 'h', 'TEXT); DROP TABLE people; --');"
  expect_error "type holds a ';': it must be one SQL expression, not statements"
  sqlite_run db <<<"SELECT migrate_add_column('people', 'h', NULL);"
  expect_error "migrate_add_column needs the column's type"
  sqlite_run db <<<"SELECT migrate_add_column('people', NULL, 'TEXT');"
  expect_error "migrate_add_column needs a column name"
  sqlite_run db <<<"SELECT migrate_add_column('nope', 'h', 'TEXT');"
  expect_error 'table "nope" does not exist'
  sqlite_run db <<<"SELECT migrate_add_column('people', 'h', 'TEXT', 'no_such_column');"
  expect_error "could not fill column h of people: no such column: no_such_column; nothing was changed"
  sqlite_run db <<<"SELECT migrate_init(); SELECT migrate_add_column('migrate_history', 'h', 'TEXT', NULL, '1');"
  expect_error "migrate_add_column refuses table migrate_history: it is one of migrate's own tables, which only migrate itself changes; nothing was changed" "ok"
  sqlite_run db <<<"DROP TABLE migrate_history; DROP TABLE migrate_scripts;"
  expect_ok ""
  dump db
  expect_eq "database after the refused calls" "$before" "$DUMP"
}

# Inside a migration applied by migrate_apply, and inside the caller's transaction (kept on
# COMMIT, gone on ROLLBACK); a refusal inside a migration undoes the whole apply.
test_add_column_in_migration_and_transaction() {
  put m/1_people.up.sql <<'EOF2'
CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO people VALUES (1, 'a'), (2, NULL);
EOF2
  put m/2_score.up.sql <<<"SELECT migrate_add_column('people', 'label', 'TEXT', 'name');"
  sqlite_run --no-bail db <<'EOF2'
SELECT migrate_apply('m');
SELECT count(*) FROM sqlite_schema;
EOF2
  expect_error "migration 2 (2_score.up.sql, line 1): cannot add column label to people as NOT NULL: 1 row holds NULL after the fill; nothing was changed
rows 2
HINT: SELECT * FROM migrate_nulls('people', 'label') lists every row; give fill (or default) a value for every row, or add the column nullable and then use migrate_set_not_null with on_null 'quarantine' to move them to people_nulls" "0"
  put m/2_score.up.sql <<<"SELECT migrate_add_column('people', 'label', 'TEXT', 'name', '''?''');"
  sqlite_q db "SELECT migrate_apply('m'); SELECT id, label FROM people;
BEGIN; SELECT migrate_add_column('people', 'n', 'INTEGER', 'id * 10'); ROLLBACK;
SELECT count(*) FROM pragma_table_info('people') WHERE name = 'n';
BEGIN; SELECT migrate_add_column('people', 'n', 'INTEGER', 'id * 10'); COMMIT;
SELECT group_concat(n, ',') FROM people;" "2
1|a
2|?
added column n INTEGER NOT NULL to people; filled 2 rows
0
added column n INTEGER NOT NULL to people; filled 2 rows
10,20"
}

# Hostile identifiers are names, never SQL.
test_add_column_hostile_identifiers() {
  sqlite_run db <<'EOF2'
CREATE TABLE sentinel (x INTEGER);
INSERT INTO sentinel VALUES (1);
CREATE TABLE "we""ird'; DROP TABLE sentinel; -- t" (id INTEGER PRIMARY KEY);
INSERT INTO "we""ird'; DROP TABLE sentinel; -- t" VALUES (1), (2);
EOF2
  expect_ok ""
  sqlite_q db "SELECT migrate_add_column('we\"ird''; DROP TABLE sentinel; -- t', 'co\"l''; --', 'TEXT', 'id || ''x''');
SELECT \"co\"\"l'; --\" FROM \"we\"\"ird'; DROP TABLE sentinel; -- t\" ORDER BY id;
SELECT \"notnull\" FROM pragma_table_info('we\"ird''; DROP TABLE sentinel; -- t') WHERE name = 'co\"l''; --';
SELECT x FROM sentinel;" "added column co\"l'; -- TEXT NOT NULL to we\"ird'; DROP TABLE sentinel; -- t; filled 2 rows
1x
2x
1
1"
}

# The <table>_nulls quarantine keeps each column's declared type and collation, without the
# table's constraints (NOT NULL, CHECK), like <table>_duplicates.
test_set_not_null_quarantine_keeps_types() {
  sqlite_q db "CREATE TABLE t (id INTEGER PRIMARY KEY, code VARCHAR(8) COLLATE NOCASE NOT NULL CHECK (code <> ''), v REAL);
INSERT INTO t VALUES (1, 'a', NULL), (2, 'B', 2.5);
SELECT migrate_set_not_null('t', 'v', NULL, 'quarantine');
SELECT sql FROM sqlite_schema WHERE name = 't_nulls';
SELECT count(*) FROM t_nulls WHERE code = 'A';" "column v of t is NOT NULL; moved 1 row to t_nulls
CREATE TABLE \"t_nulls\" (\"id\" INTEGER, \"code\" VARCHAR(8) COLLATE \"NOCASE\", \"v\" REAL, migrate_moved_at TEXT)
1"
}
