# shellcheck shell=bash
# Foreign keys: rebuilding a parent table inside a migration, and what enforcement looks like
# around the call.

# A parent with an ON DELETE CASCADE child, two parents and three children.
fk_schema() {
  put m/1_schema.up.sql <<'EOF'
CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE child (
  id INTEGER PRIMARY KEY,
  parent_id INTEGER NOT NULL REFERENCES parent (id) ON DELETE CASCADE
);
INSERT INTO parent VALUES (1, 'one'), (2, 'two');
INSERT INTO child VALUES (1, 1), (2, 1), (3, 2);
EOF
}

# The SQLite way of adding a constraint: create the new table, copy, drop the old, rename.
rebuild_parent_sql() {
  cat <<'EOF'
CREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL CHECK (name <> ''));
INSERT INTO parent_new SELECT id, name FROM parent;
DROP TABLE parent;
ALTER TABLE parent_new RENAME TO parent;
EOF
}

# With foreign_keys=ON, the rebuild inside migrate_apply keeps every child row, and enforcement
# is on again afterwards. (Run by hand with enforcement on, the same script loses them.)
test_fk_parent_rebuild_keeps_cascade_children() {
  fk_schema
  sqlite_q db "PRAGMA foreign_keys = ON; SELECT migrate_apply('m'); SELECT count(*) FROM child;" "1
3"
  cp db control.db
  rebuild_parent_sql | put m/2_rebuild_parent.up.sql
  sqlite_run db <<'EOF'
PRAGMA foreign_keys = ON;
SELECT count(*) FROM child;
SELECT migrate_apply('m');
SELECT count(*) FROM child;
PRAGMA foreign_keys;
PRAGMA foreign_key_check;
SELECT sql LIKE '%CHECK (name <> '''')%' FROM sqlite_schema WHERE name = 'parent';
DELETE FROM parent WHERE id = 2;
SELECT id FROM child ORDER BY id;
EOF
  expect_ok "3
1
3
1
1
1
2"

  # control: the same script outside migrate_apply, with enforcement on, cascades
  sqlite_run --no-load control.db < <(
    echo "PRAGMA foreign_keys = ON;"
    rebuild_parent_sql
    echo "SELECT count(*) FROM child;"
  )
  expect_ok "0"
}

# Enforcement is back on after a failed call too, and a connection that had it off keeps it off.
test_fk_enforcement_restored_after_failure() {
  fk_schema
  put m/2_bad.up.sql <<'EOF'
DROP TABLE child;
SELECT * FROM nope;
EOF
  sqlite_run --no-bail db <<'EOF'
PRAGMA foreign_keys = ON;
SELECT migrate_apply('m', '1');
PRAGMA foreign_keys;
SELECT migrate_apply('m');
PRAGMA foreign_keys;
SELECT count(*) FROM child;
INSERT INTO child VALUES (9, 99);
SELECT count(*) FROM child;
EOF
  expect_rc 1
  expect_err "migration 2 (2_bad.up.sql, line 2): no such table: nope
FOREIGN KEY constraint failed"
  expect_out "1
1
1
3
3"

  sqlite_run --no-bail db <<'EOF'
PRAGMA foreign_keys = OFF;
SELECT migrate_apply('m');
PRAGMA foreign_keys;
EOF
  expect_error "migration 2 (2_bad.up.sql, line 2): no such table: nope" "0"
}

# A migration that leaves a foreign key violation (a parent deleted while enforcement is off for
# the call) fails the whole call, naming the table, the row and the parent; violations that were
# there before the call are not blamed on it.
test_fk_violation_fails_the_call() {
  fk_schema
  sqlite_q db "PRAGMA foreign_keys = ON; SELECT migrate_apply('m');" "1"
  put m/2_ok.up.sql <<<'CREATE TABLE other (x INTEGER);'
  put m/3_delete_parent.up.sql <<<'DELETE FROM parent WHERE id = 1;'
  sqlite_run --no-bail db <<'EOF'
PRAGMA foreign_keys = ON;
SELECT migrate_apply('m');
PRAGMA foreign_keys;
SELECT count(*) FROM parent;
SELECT count(*) FROM child;
SELECT count(*) FROM migrate_history;
SELECT count(*) FROM sqlite_schema WHERE name = 'other';
EOF
  expect_error "the migrations would leave 2 foreign key violations; nothing was applied
table child row 1 references a missing row of parent (foreign key 0)
table child row 2 references a missing row of parent (foreign key 0)
HINT: run PRAGMA foreign_key_check after applying by hand to see them" "1
2
3
1
0"

  # an orphan made beforehand (enforcement off) does not stop a clean migration
  rm m/3_delete_parent.up.sql
  sqlite_run db <<'EOF'
PRAGMA foreign_keys = OFF;
INSERT INTO child VALUES (4, 99);
PRAGMA foreign_keys = ON;
SELECT migrate_apply('m');
PRAGMA foreign_key_check;
EOF
  expect_ok "1
child|4|parent|0"
}
