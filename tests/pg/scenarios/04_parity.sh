#!/usr/bin/env bash
# The same migrations folder on SQLite (the real sqlite3 shell with the extension) and on
# PostgreSQL gives the same migrations_status rows: version, name, state, script, checksum and
# applied_checksum compared as text, row by row (time columns and applied_by aside), before
# apply (all pending, and the same migrate_plan), after apply, after a file is modified (state
# modified on both) and after an applied file is deleted (state missing on both). Two folders:
# examples/ and one generated here with every layout (pair, dbmate and goose sections, a folder
# with up.sql/down.sql, Flyway V/U files, a dotted version) plus a CRLF file with a BOM.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
scenario_begin parity

SQLITE3=${SQLITE3:-sqlite3}
MIGRATE_SO=${MIGRATE_SO:-$REPO_DIR/sqlite_ext/migrate}
command -v "$SQLITE3" >/dev/null || { fail "the sqlite3 shell ($SQLITE3) is missing"; scenario_end; }
[ -f "$MIGRATE_SO.so" ] || { fail "$MIGRATE_SO.so is missing: make sqlite"; scenario_end; }

# Portable text of every column: NULL shows as <null> on both engines.
status_sql() {
  echo "SELECT version, name, state, script, COALESCE(checksum, '<null>'),
        COALESCE(applied_checksum, '<null>') FROM migrations_status('$1')"
}
plan_sql() {
  echo "SELECT step, direction, version, name, script FROM migrate_plan('$1')"
}
on_sqlite() { # <database file> <sql>
  "$SQLITE3" -batch -bail "$1" ".load $MIGRATE_SO" ".mode list" ".separator |" "$2"
}
on_pg() { # <database> <sql>
  PGOPTIONS='-c client_min_messages=warning' pg_q -d "$1" -F'|' -c "$2"
}

# compare <label> <sqlite db> <pg db> <sql> <expected states, space-separated, or ->
compare() {
  local label=$1 lite=$2 pg=$3 sql=$4 states=$5
  on_sqlite "$lite" "$sql" >"$WORK/sqlite.rows" 2>&1 || fail "$label: sqlite3 failed: $(cat "$WORK/sqlite.rows")"
  on_pg "$pg" "$sql" >"$WORK/pg.rows" 2>&1 || fail "$label: psql failed: $(cat "$WORK/pg.rows")"
  expect_same "$label: SQLite (---) and PostgreSQL (+++) rows" "$WORK/sqlite.rows" "$WORK/pg.rows"
  [ -s "$WORK/pg.rows" ] || fail "$label: no rows"
  if [ "$states" != - ]; then
    expect_eq "$label: states" "$states" "$(cut -d'|' -f3 "$WORK/pg.rows" | tr '\n' ' ' | sed 's/ $//')"
  fi
}

# run_parity <label> <folder> <up script to modify> <file or folder to delete>...
run_parity() {
  local label=$1 dir=$2 modify=$3
  shift 3
  local lite="$WORK/$label.db" pg n i states f
  new_db pg || { fail "$label: could not create the database"; return; }
  publish
  n=$(on_pg "$pg" "SELECT count(*) FROM migrations_status('$dir')")

  states=$(for ((i = 0; i < n; i++)); do printf 'pending '; done | sed 's/ $//')
  compare "$label, before apply" "$lite" "$pg" "$(status_sql "$dir")" "$states"
  compare "$label, migrate_plan before apply" "$lite" "$pg" "$(plan_sql "$dir")" -

  expect_eq "$label: migrate_apply on SQLite" "$n" "$(on_sqlite "$lite" "SELECT migrate_apply('$dir')" 2>&1)"
  expect_eq "$label: migrate_apply on PostgreSQL" "$n" "$(on_pg "$pg" "SELECT migrate_apply('$dir')" 2>&1)"
  states=${states//pending/applied}
  compare "$label, after apply" "$lite" "$pg" "$(status_sql "$dir")" "$states"

  # A reviewer touched an applied up script: modified on both, with the same new checksum.
  printf '\n-- reviewed\n' >>"$dir/$modify"
  compare "$label, after modifying $modify" "$lite" "$pg" "$(status_sql "$dir")" -
  expect_eq "$label: rows in state modified" "1 $modify" \
    "$(awk -F'|' '$3 == "modified" {n++; s = $4} END {print n + 0, s}' "$WORK/pg.rows")"

  # An applied migration is gone: missing on both.
  for f in "$@"; do rm -r "${dir:?}/$f"; done
  compare "$label, after deleting $*" "$lite" "$pg" "$(status_sql "$dir")" -
  expect_eq "$label: rows in state missing" 1 "$(awk -F'|' '$3 == "missing"' "$WORK/pg.rows" | wc -l)"
}

# 1. examples/, when it is there (it is meant to run on both engines).
if [ -d "$REPO_DIR/examples" ]; then
  EX=$(new_dir examples)
  cp -R "$REPO_DIR/examples/." "$EX/"
  run_parity examples "$EX" 20240120100000_create_plans.up.sql \
    20240215120000_invoices_status_check.up.sql 20240215120000_invoices_status_check.down.sql
fi

# 2. Every layout, portable SQL.
MIX=$(new_dir mixed)
cat >"$MIX/1_create_authors.up.sql" <<'SQL'
CREATE TABLE authors (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL
);
SQL
echo 'DROP TABLE authors;' >"$MIX/1_create_authors.down.sql"
cat >"$MIX/2_create_books.sql" <<'SQL'
-- migrate:up
CREATE TABLE books (
    id        INTEGER PRIMARY KEY,
    author_id INTEGER NOT NULL REFERENCES authors (id),
    title     TEXT NOT NULL
);
CREATE INDEX books_author ON books (author_id);

-- migrate:down
DROP TABLE books;
SQL
mkdir "$MIX/3_create_tags"
echo 'CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE);' >"$MIX/3_create_tags/up.sql"
echo 'DROP TABLE tags;' >"$MIX/3_create_tags/down.sql"
echo "INSERT INTO authors (id, name) VALUES (1, 'Ursula K. Le Guin'), (2, 'Italo Calvino');" \
  >"$MIX/V4__seed_authors.sql"
echo 'DELETE FROM authors WHERE id IN (1, 2);' >"$MIX/U4__seed_authors.sql"
cat >"$MIX/5_add_books_published.sql" <<'SQL'
-- +goose Up
ALTER TABLE books ADD COLUMN published INTEGER;

-- +goose Down
ALTER TABLE books DROP COLUMN published;
SQL
cat >"$MIX/6.1_create_book_tags.sql" <<'SQL'
CREATE TABLE book_tags (
    book_id INTEGER NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    tag_id  INTEGER NOT NULL REFERENCES tags (id),
    PRIMARY KEY (book_id, tag_id)
);
SQL
# Written on Windows: a BOM and CRLF line endings (the checksum ignores both).
printf '\xef\xbb\xbf-- migrate:up\r\nCREATE TABLE reviews (\r\n    id      INTEGER PRIMARY KEY,\r\n    book_id INTEGER NOT NULL REFERENCES books (id),\r\n    stars   INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5)\r\n);\r\n\r\n-- migrate:down\r\nDROP TABLE reviews;\r\n' \
  >"$MIX/7_create_reviews.sql"
echo 'Not a migration.' >"$MIX/README.md"
touch "$MIX/.gitkeep"
run_parity mixed "$MIX" 6.1_create_book_tags.sql 3_create_tags

# The Windows file saved again with LF endings and no BOM: still applied on both.
MIXED_PG=${CREATED_DBS[${#CREATED_DBS[@]} - 1]}
sed -i -e '1s/^\xef\xbb\xbf//' -e 's/\r$//' "$MIX/7_create_reviews.sql"
compare "mixed, after converting 7_create_reviews.sql to LF" "$WORK/mixed.db" "$MIXED_PG" \
  "$(status_sql "$MIX")" -
expect_eq "mixed: state of 7 after converting it to LF" applied "$(awk -F'|' '$1 == "7" {print $3}' "$WORK/pg.rows")"

scenario_end
