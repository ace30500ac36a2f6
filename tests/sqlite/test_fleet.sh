# shellcheck shell=bash
# migrate_fleet and migrate_fleet_status: one folder, many tenant files, each on a connection of
# its own, by several worker threads.

# Ten migrations; 009's second line fails where a tenant already has a row with id 1.
fleet_migrations() {
  put m/001_a.sql <<<'CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT);'
  put m/002_b.sql <<<'CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));'
  put m/003_rows.sql <<'EOF'
INSERT INTO a VALUES (100, 'x');
INSERT INTO b VALUES (1, 100);
EOF
  put m/004_email.sql <<<'ALTER TABLE a ADD COLUMN email TEXT;'
  put m/005_index.sql <<'EOF'
-- migrate:up
CREATE INDEX a_email ON a (email);
-- migrate:down
DROP INDEX a_email;
EOF
  put m/006_c.sql <<<'CREATE TABLE c (x INTEGER);'
  put m/007_c_row.sql <<<'INSERT INTO c VALUES (7);'
  put m/008_d.sql <<<'CREATE TABLE d (y TEXT);'
  put m/009_one.sql <<'EOF'
UPDATE c SET x = 9;
INSERT INTO a (id, name) VALUES (1, 'one');
EOF
  put m/010_view.sql <<<'CREATE VIEW av AS SELECT name FROM a;'
}

# One file per version 0..10 (0: an empty file, a new SQLite database), applied by migrate_apply.
fleet_templates() {
  local v
  : >tmpl_0.db
  for v in 1 2 3 4 5 6 7 8 9 10; do
    sqlite_run "tmpl_$v.db" <<<"SELECT migrate_apply('m', '$(printf %03d "$v")');"
    expect_ok "$v"
  done
}

# The history columns migrate_apply writes that do not depend on the clock.
HISTORY_COLUMNS="version, name, direction, checksum, down_checksum, up_sql, down_sql, script,
applied_by, success, completed_statements"

# Hold a file with BEGIN EXCLUSIVE in a background shell until fleet_release_hold.
fleet_hold() {
  mkfifo holder.fifo
  sqlite_run_bg holder "$1" holder.fifo
  exec 7>holder.fifo
  printf '%s\n' "BEGIN EXCLUSIVE;" ".output ready" "SELECT 'ready';" ".output stdout" >&7
  local i=0
  until [ "$(cat ready 2>/dev/null)" = ready ]; do
    sleep 0.1
    i=$((i + 1))
    if [ $i -ge $((SQ_TIME_LIMIT * 10)) ]; then
      fail "the holder never got its lock"
      break
    fi
  done
}

fleet_release_hold() {
  printf '%s\n' "ROLLBACK;" >&7
  exec 7>&-
  sqlite_wait holder
  expect_rc 0
}

# 200 tenants at every version, four with problems (modified history, data a migration trips
# over, not a database, locked by another process), six new: every row, the summary, the
# untouched files and the history of each migrated one are exact.
test_fleet_two_hundred_tenants() {
  fleet_migrations
  fleet_templates
  mkdir t
  local i v name expected="" migrated=0 current=0 migrations=0
  for ((i = 0; i < 190; i++)); do
    v=$((i % 11))
    name=$(printf 't/t%03d.db' "$i")
    cp "tmpl_$v.db" "$name"
    if [ "$v" = 10 ]; then
      expected+="$name|010|010|0|current"$'\n'
      current=$((current + 1))
    else
      expected+="$name|$([ "$v" = 0 ] || printf %03d "$v")|010|$((10 - v))|migrated"$'\n'
      migrated=$((migrated + 1))
      migrations=$((migrations + 10 - v))
    fi
  done
  cp tmpl_5.db t/t190.db # history says 002 had another checksum: modified, refused
  sqlite_run --no-load t/t190.db <<<"UPDATE migrate_history SET checksum = 'deadbeef' WHERE version = '002';"
  expect_ok ""
  cp tmpl_8.db t/t191.db # a row 009 will collide with
  sqlite_run --no-load t/t191.db <<<"INSERT INTO a (id, name) VALUES (1, 'mine');"
  expect_ok ""
  printf 'this is not a database, only text\n' >t/t192.db
  cp tmpl_3.db t/t193.db # locked by another process
  expected+="t/t190.db|005|005|0|failed"$'\n'"t/t191.db|008|008|0|failed"$'\n'
  expected+="t/t192.db|||0|failed"$'\n'"t/t193.db|||0|locked"$'\n'
  for ((i = 194; i < 200; i++)); do
    : >"t/t$i.db"
    expected+="t/t$i.db||010|10|migrated"$'\n'
    migrated=$((migrated + 1))
    migrations=$((migrations + 10))
  done
  for i in 190 191 192 193; do cp "t/t$i.db" "before_$i.db"; done

  # status first: nothing changes
  sqlite_run :memory: <<<"SELECT migrate_set('fleet_workers', 2);
SELECT path, version, pending, state, problems, error FROM migrate_fleet_status('m', 't/*.db')
WHERE path IN ('t/t000.db', 't/t010.db', 't/t190.db', 't/t191.db', 't/t192.db', 't/t199.db');"
  expect_ok "2
t/t000.db||10|pending||
t/t010.db|010|0|current||
t/t190.db|005|5|problem|modified 002|
t/t191.db|008|2|pending||
t/t192.db|||failed||file is not a database
t/t199.db||10|pending||"
  for i in 190 191 192; do
    cmp -s "t/t$i.db" "before_$i.db" || fail "migrate_fleet_status changed t/t$i.db"
  done

  fleet_hold t/t193.db
  sqlite_run :memory: <<<".timeout 200
SELECT migrate_set('fleet_workers', 2);
SELECT path, version_before, version_after, applied, state,
       coalesce(substr(note, 1, instr(note, ', in ') - 1), '')
FROM migrate_fleet('m', 't/*.db');"
  expect_ok "2
${expected//$'\n'/|$'\n'}|||$migrations|summary|200 databases, 2 workers: $migrated migrated ($migrations migrations), $current current, 3 failed, 1 locked"
  expect_eq "expected counts (migrated, current)" "179 17" "$migrated $current"
  fleet_release_hold

  sqlite_run :memory: <<<".timeout 200
SELECT migrate_set('fleet_workers', 2);
SELECT path, error FROM migrate_fleet('m', 't/t19[0-3].db') WHERE path IS NOT NULL;"
  # once the holder let go, t193 is migrated; the others fail again, each with its reason
  expect_rc 0
  expect_line "t190: modified" '^t/t190\.db\|.*002' "$OUT"
  expect_line "t191: the file and line of the failing statement" \
    '^t/t191\.db\|.*009_one\.sql.*line 2' "$OUT"
  expect_line "t191: SQLite's reason" '^t/t191\.db\|.*UNIQUE constraint failed: a\.id' "$OUT"
  expect_line "t192: not a database" '^t/t192\.db\|file is not a database$' "$OUT"
  expect_line "t193: migrated once free" '^t/t193\.db\|$' "$OUT"
  for i in 190 191 192; do
    cmp -s "t/t$i.db" "before_$i.db" || fail "the failed call changed t/t$i.db"
  done

  # the summary row of a fresh run over the same kind of fleet is exact (the time aside)
  rm -rf t2 && mkdir t2
  for ((i = 0; i < 22; i++)); do cp "tmpl_$((i % 11)).db" "$(printf 't2/t%03d.db' "$i")"; done
  sqlite_run :memory: <<<"SELECT migrate_set('fleet_workers', 2);
SELECT quote(path), applied, state, note FROM migrate_fleet('m', 't2/*.db') WHERE path IS NULL;"
  expect_rc 0
  expect_match "summary row" \
    "^2
NULL\\|110\\|summary\\|22 databases, 2 workers: 20 migrated \\(110 migrations\\), 2 current, in [0-9]+ ms\$" \
    "$OUT"

  # each migrated file's history, schema and data are what migrate_apply writes
  for v in 0 4 9; do
    cp "tmpl_$v.db" "ref_$v.db"
    sqlite_run "ref_$v.db" <<<"SELECT migrate_apply('m');"
    expect_ok "$((10 - v))"
    local q=".schema
SELECT $HISTORY_COLUMNS FROM migrate_history ORDER BY id;
SELECT * FROM a ORDER BY id; SELECT * FROM b; SELECT * FROM c; SELECT * FROM d;"
    sqlite_run --no-load "ref_$v.db" <<<"$q"
    expect_rc 0
    local ref=$OUT
    sqlite_run --no-load "$(printf 't/t%03d.db' "$v")" <<<"$q"
    expect_ok "$ref"
  done

  # status after: everything current but the problems
  sqlite_run :memory: <<<"SELECT state, count(*) FROM migrate_fleet_status('m', 't/*.db') GROUP BY state ORDER BY state;"
  expect_ok "current|197
failed|1
pending|1
problem|1
summary|1"
}

# A SIGKILL in the middle of a fleet run: every file is before or after its own migration,
# never in between, and the next run finishes the fleet.
test_fleet_sigkill_leaves_each_file_whole() {
  put m/1_big.up.sql <<EOF
CREATE TABLE big (n INTEGER);
WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $BIG_ROWS)
INSERT INTO big SELECT n FROM s;
EOF
  put m/2_copy.up.sql <<<'CREATE TABLE big2 AS SELECT n * 2 AS m FROM big;'
  put m/3_index.up.sql <<<'CREATE INDEX big_n ON big (n);'
  mkdir t
  local i
  for ((i = 0; i < 40; i++)); do : >"$(printf 't/t%02d.db' "$i")"; done
  printf '%s\n' "SELECT migrate_set('fleet_workers', 2);" \
    "SELECT count(*) FROM migrate_fleet('m', 't/*.db');" >fleet.sql
  "${RUNNER[@]}" "$SQLITE3" -batch -cmd ".load $MIGRATE_SO" :memory: <fleet.sql >/dev/null 2>&1 &
  local pid=$!
  # kill it while a file is inside its migration (its journal exists), when the timing allows
  for ((i = 0; i < 3000; i++)); do
    compgen -G 't/*.db-journal' >/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  # status reads files a killed worker left with a hot journal (opening them rolls that back)
  sqlite_run :memory: <<<".timeout 5000
SELECT state FROM migrate_fleet_status('m', 't/*.db') WHERE state NOT IN ('current', 'pending');"
  expect_ok "summary"
  local f state before=0 after=0
  for f in t/*.db; do
    # opening the file rolls back what a killed worker left half-done (its hot journal)
    sqlite_run --no-load "$f" <<<".timeout 5000
SELECT (SELECT count(*) FROM sqlite_schema WHERE name = 'migrate_history');"
    expect_rc 0
    if [ "$OUT" = 0 ]; then
      state="none"
    else
      sqlite_run --no-load "$f" <<<"SELECT count(*) FROM migrate_history;
SELECT count(*) FROM sqlite_schema WHERE name IN ('big', 'big2', 'big_n');"
      state=$(tr '\n' ' ' <<<"$OUT")
    fi
    case $state in
      none) before=$((before + 1)) ;;
      "0 0 ") before=$((before + 1)) ;;
      "3 3 ")
        sqlite_run --no-load "$f" <<<"SELECT count(*) = $BIG_ROWS FROM big; PRAGMA integrity_check;"
        expect_ok "1
ok"
        after=$((after + 1)) ;;
      *) fail "$f is between before and after its migration: $state" ;;
    esac
  done
  expect_eq "files before or after" 40 $((before + after))
  sqlite_run :memory: <<<"SELECT state, count(*) FROM migrate_fleet('m', 't/*.db') GROUP BY state ORDER BY state;"
  expect_rc 0
  expect_line "the next run finishes the fleet" "^summary\\|1\$" "$OUT"
  sqlite_run :memory: <<<"SELECT state, count(*) FROM migrate_fleet_status('m', 't/*.db') GROUP BY state;"
  expect_ok "current|40
summary|1"
}

# Refusals: no folder, no match, a bad worker count, use from a view; the setting reads back.
test_fleet_refusals() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  : >one.db
  sqlite_run :memory: <<<"SELECT * FROM migrate_fleet(NULL, '*.db');"
  expect_error "migrate_fleet needs a migrations folder: the databases share no migrate_scripts"
  sqlite_run :memory: <<<"SELECT * FROM migrate_fleet('m', 'none/*.db');"
  expect_error "migrate_fleet: no database file matches none/*.db"
  sqlite_run :memory: <<<"SELECT * FROM migrate_fleet_status('m');"
  expect_error "migrate_fleet_status needs 2 arguments"
  sqlite_run :memory: <<<"SELECT migrate_set('fleet_workers', 'many');"
  expect_error "migrate_set: fleet_workers must be a whole number from 0 (one per core) to 256, not 'many'"
  sqlite_run :memory: <<<"SELECT migrate_set('fleet_workers'); SELECT migrate_set('fleet_workers', 3);"
  expect_ok "0
3"
  sqlite_run db.db <<<"CREATE VIEW v AS SELECT * FROM migrate_fleet('m', '*.db');
SELECT * FROM v;"
  expect_error "unsafe use of virtual table \"migrate_fleet\""
  sqlite_q one.db "SELECT count(*) FROM sqlite_schema;" "0"
  # a target stops each database there
  put m/2_b.up.sql <<<'CREATE TABLE b (x INTEGER);'
  sqlite_q :memory: "SELECT path, version_after, applied, state FROM migrate_fleet('m', 'one.db', '1') WHERE path IS NOT NULL;" "one.db|1|1|migrated"
}

# A file a killed process left in the middle of a transaction (a hot journal): status reads it
# (the open rolls the transaction back), and the fleet then migrates it.
test_fleet_status_after_a_crash() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  mkdir t
  sqlite_q t/crashed.db "CREATE TABLE own (n INTEGER); INSERT INTO own VALUES (1);" ""
  mkfifo writer.fifo
  sqlite_run_bg writer t/crashed.db writer.fifo
  exec 7>writer.fifo
  # a small cache makes the transaction write into the file, its old pages in the journal
  printf '%s\n' "PRAGMA cache_size = 10;" "BEGIN;" \
    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $BIG_ROWS) INSERT INTO own SELECT n FROM s;" \
    ".output ready" "SELECT 'ready';" ".output stdout" >&7
  local i=0
  until [ "$(cat ready 2>/dev/null)" = ready ]; do
    sleep 0.1
    i=$((i + 1))
    if [ $i -ge $((SQ_TIME_LIMIT * 10)) ]; then
      fail "the writer never got there"
      break
    fi
  done
  # shellcheck disable=SC2154  # set by sqlite_run_bg
  pkill -9 -P "$BG_PID_writer" 2>/dev/null
  kill -9 "$BG_PID_writer" 2>/dev/null
  wait "$BG_PID_writer" 2>/dev/null
  exec 7>&-
  [ -e t/crashed.db-journal ] || fail "the killed writer left no journal"
  sqlite_q :memory: "SELECT path, version, pending, state, error FROM migrate_fleet_status('m', 't/*.db') WHERE path IS NOT NULL;" \
    "t/crashed.db||1|pending|"
  sqlite_run --no-load t/crashed.db <<<"SELECT count(*) FROM own;"
  expect_ok "1"
  sqlite_q :memory: "SELECT path, applied, state FROM migrate_fleet('m', 't/*.db') WHERE path IS NOT NULL;" \
    "t/crashed.db|1|migrated"
}

# databases as 'table:NAME': the paths a table of the calling database lists, read before any
# worker starts; sorted, each file once (the same text, or another name for it), a NULL or
# empty path a failed row of its own, a missing file a failed row, the column path or the only
# column, any name quoted.
test_fleet_table_of_paths() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  put m/2_b.up.sql <<<'CREATE TABLE b (y INTEGER);'
  mkdir t
  : >t/a.db
  : >t/b.db
  sqlite_q ctl.db "CREATE TABLE tenants (id INTEGER PRIMARY KEY, owner TEXT, path TEXT);
INSERT INTO tenants (owner, path) VALUES ('x', 't/b.db'), ('y', 't/a.db'), ('z', NULL),
  ('w', 't/a.db'), ('v', './t/b.db'), ('u', ''), ('s', 't/c.db');" ""
  sqlite_q ctl.db "SELECT path, version, pending, state, error FROM migrate_fleet_status('m', 'table:tenants');" \
    "|||failed|migrate_fleet_status: table tenants, row 3: the path is NULL
|||failed|migrate_fleet_status: table tenants, row 6: the path is empty
./t/b.db||2|pending|
t/a.db||2|pending|
t/c.db|||failed|unable to open database file
||4|summary|"
  [ -e t/c.db ] && fail "status created t/c.db"
  # the calling database is a file whose table the call reads; the workers' DDL runs on their own
  sqlite_run ctl.db <<<"SELECT path, version_before, version_after, applied, state, error,
  substr(note, instr(note, ' in ')) FROM migrate_fleet('m', 'table:tenants');"
  expect_rc 0
  expect_eq "rows" "||||failed|migrate_fleet: table tenants, row 3: the path is NULL|
||||failed|migrate_fleet: table tenants, row 6: the path is empty|
./t/b.db||2|2|migrated||
t/a.db||2|2|migrated||
t/c.db||||failed|unable to open database file|" "$(sed '$d' <<<"$OUT" | sed 's/|0|failed|/||failed|/')"
  expect_match "summary" "^\\|\\|\\|4\\|summary\\|\\| in [0-9]+ ms; 2 paths named a file already listed\$" \
    "$(tail -n 1 <<<"$OUT")"
  sqlite_q t/b.db "SELECT version FROM migrate_history ORDER BY id;" "1
2"
  [ -e t/c.db ] && fail "the fleet created t/c.db"
  sqlite_q ctl.db "SELECT count(*) FROM tenants;" "7"

  # one column of any name; a name that needs quoting; a view; a temporary table
  put m/3_c.up.sql <<<'CREATE TABLE c (z INTEGER);'
  sqlite_q ctl.db "CREATE TABLE \"my \"\"odd\"\" list\" (file TEXT); INSERT INTO \"my \"\"odd\"\" list\" VALUES ('t/a.db');
SELECT path, applied, state FROM migrate_fleet('m', 'table:my \"odd\" list') WHERE path IS NOT NULL;" "t/a.db|1|migrated"
  sqlite_q ctl.db "CREATE VIEW later AS SELECT path FROM tenants WHERE owner = 'x';
SELECT path, applied, state FROM migrate_fleet('m', 'table:later') WHERE path IS NOT NULL;" "t/b.db|1|migrated"
  sqlite_q :memory: "CREATE TEMP TABLE list (path TEXT); INSERT INTO list VALUES ('t/a.db'), ('t/b.db');
SELECT path, version, state FROM migrate_fleet_status('m', 'table:list') WHERE path IS NOT NULL;" \
    "t/a.db|3|current
t/b.db|3|current"

  # refusals: no such table, no column of paths, nothing listed, no name
  sqlite_run ctl.db <<<"SELECT * FROM migrate_fleet('m', 'table:nope');"
  expect_error "migrate_fleet: cannot read the paths of table nope: no such table: nope"
  sqlite_run ctl.db <<<"CREATE TABLE two (a TEXT, b TEXT);
SELECT * FROM migrate_fleet('m', 'table:two');"
  expect_error "migrate_fleet: table two has no column path, and 2 columns: name the column of paths path"
  sqlite_run ctl.db <<<"CREATE TABLE none (path TEXT);
SELECT * FROM migrate_fleet_status('m', 'table:none');"
  expect_error "migrate_fleet_status: table none lists no database file"
  sqlite_run ctl.db <<<"SELECT * FROM migrate_fleet('m', 'table:');"
  expect_error "migrate_fleet: table: must be followed by the name of a table of paths"
}

# Schema drift: status reports it as a problem whatever the setting; migrate_fleet does what
# migrate_apply does with each file: 'error' refuses the file and leaves it as it was, 'warn'
# (the default) migrates it and says so in the row's note, 'ignore' does not look.
test_fleet_schema_drift() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER);'
  sqlite_q tmpl.db "SELECT migrate_apply('m');" "1"
  put m/2_b.up.sql <<<'CREATE TABLE b (y INTEGER);'
  cp tmpl.db drifted.db
  sqlite_q drifted.db "CREATE INDEX by_hand ON a (x);" ""
  local mode
  for mode in error warn ignore; do
    mkdir "$mode"
    cp tmpl.db "$mode/clean.db"
    cp drifted.db "$mode/drifted.db"
  done
  cp drifted.db before.db

  sqlite_q :memory: "SELECT migrate_set('drift', 'ignore');
SELECT path, version, pending, state, problems, substr(note, instr(note, ';'))
FROM migrate_fleet_status('m', 'error/*.db');" "ignore
error/clean.db|1|1|pending||
error/drifted.db|1|1|problem|drift (index by_hand added)|
||1|summary||; 1 with schema drift"

  sqlite_q :memory: "SELECT migrate_set('drift', 'error');
SELECT path, version_after, applied, state, error, note FROM migrate_fleet('m', 'error/*.db')
WHERE path IS NOT NULL;" "error
error/clean.db|2|1|migrated||
error/drifted.db|1|0|failed|schema drift: the schema was changed outside migrate since its last call (index by_hand added); nothing was run
HINT: SELECT * FROM migrate_drift() lists every change; write it as a migration, or accept the live schema with migrate_repair; the drift setting 'warn' lets the call go on|"
  cmp -s error/drifted.db before.db || fail "drift = error changed error/drifted.db"

  sqlite_run :memory: <<<"SELECT path, version_after, applied, state, error, note,
  substr(note, instr(note, ';')) FROM migrate_fleet('m', 'warn/*.db');"
  expect_rc 0
  expect_eq "warn: rows" "warn/clean.db|2|1|migrated|||
warn/drifted.db|2|1|migrated||schema drift: the schema was changed outside migrate since its last call (index by_hand added); going on as the drift setting is 'warn'|; going on as the drift setting is 'warn'
||2|summary|||; 1 with schema drift" "$(sed '$s/|[^|]*|; 1 with/||; 1 with/' <<<"$OUT")"
  expect_eq "warn: stderr, as migrate_apply's" "migrate: schema drift: the schema was changed outside migrate since its last call (index by_hand added); going on as the drift setting is 'warn'" "$ERR"
  # the drifted file's records are what migrate_apply writes under warn
  cp drifted.db ref.db
  sqlite_run ref.db <<<"SELECT migrate_apply('m');"
  expect_rc 0
  local q="SELECT version, success FROM migrate_history ORDER BY id;
SELECT operation, fingerprint, description FROM migrate_schema_history ORDER BY id;"
  sqlite_run --no-load ref.db <<<"$q"
  expect_rc 0
  local ref=$OUT
  sqlite_run --no-load warn/drifted.db <<<"$q"
  expect_ok "$ref"
  sqlite_q :memory: "SELECT path, state, problems FROM migrate_fleet_status('m', 'warn/*.db');" \
    "warn/clean.db|current|
warn/drifted.db|current|
|summary|"

  sqlite_q :memory: "SELECT migrate_set('drift', 'ignore');
SELECT path, applied, state, note FROM migrate_fleet('m', 'ignore/*.db') WHERE path IS NOT NULL;" "ignore
ignore/clean.db|1|migrated|
ignore/drifted.db|1|migrated|"
}

# The library's threading mode, checked when the call runs: a library built single-threaded
# (THREADSAFE=0, as tests/sqlite/latest.sh builds one) gets one worker whatever fleet_workers
# says, and the summary says why; any other mode gets the workers asked for. Either way the
# rows are the same.
test_fleet_threading_mode() {
  put m/1_a.up.sql <<<'CREATE TABLE a (x INTEGER PRIMARY KEY);'
  put m/2_row.up.sql <<<'INSERT INTO a VALUES (1);'
  put m/3_b.up.sql <<<'CREATE TABLE b (y INTEGER);'
  mkdir t
  local i
  for i in 0 1 2 3; do : >"t/t$i.db"; done
  sqlite_q t/t1.db "SELECT migrate_apply('m', '1');" "1"
  sqlite_q t/t2.db "SELECT migrate_apply('m', '1'); INSERT INTO a VALUES (1);" "1"
  sqlite_q t/t3.db "SELECT migrate_apply('m');" "3"
  cp t/t2.db before.db
  sqlite_q :memory: "SELECT compile_options FROM pragma_compile_options
WHERE compile_options LIKE 'THREADSAFE=%';" "$(
    "$SQLITE3" :memory: "SELECT compile_options FROM pragma_compile_options WHERE compile_options LIKE 'THREADSAFE=%'"
  )"
  local workers="2 workers" note=""
  if [ "$OUT" = THREADSAFE=0 ]; then
    workers="1 worker"
    note="; one worker: the SQLite library was built single-threaded (sqlite3_threadsafe() is 0)"
  fi
  sqlite_run :memory: <<<"SELECT migrate_set('fleet_workers', 2);
SELECT path, version, pending, state, note FROM migrate_fleet_status('m', 't/*.db');"
  expect_rc 0
  expect_eq "status" "2
t/t0.db||3|pending|
t/t1.db|1|2|pending|
t/t2.db|1|2|pending|
t/t3.db|3|0|current|
||7|summary|4 databases, $workers: 1 current, 3 pending (7 migrations), in N ms$note" \
    "$(sed -E 's/in [0-9]+ ms/in N ms/' <<<"$OUT")"
  sqlite_run :memory: <<<"SELECT migrate_set('fleet_workers', 2);
SELECT path, version_before, version_after, applied, state, error, note
FROM migrate_fleet('m', 't/*.db');"
  expect_rc 0
  expect_eq "fleet" "2
t/t0.db||3|3|migrated||
t/t1.db|1|3|2|migrated||
t/t2.db|1|1|0|failed|migration 2 (2_row.up.sql, line 1): UNIQUE constraint failed: a.x|
t/t3.db|3|3|0|current||
|||5|summary||4 databases, $workers: 2 migrated (5 migrations), 1 current, 1 failed, in N ms$note" \
    "$(sed -E 's/in [0-9]+ ms/in N ms/' <<<"$OUT")"
  cmp -s t/t2.db before.db || fail "the failed file t/t2.db changed"
  sqlite_q t/t1.db "SELECT version FROM migrate_history ORDER BY id; SELECT * FROM a;" "1
2
3
1"
}

# A migration run by the fleet may call the functions a migration may call under migrate_apply
# (migrate_add_unique here, with duplicates to merge), and each file ends as migrate_apply
# leaves it; the others are refused there as under migrate_apply, naming migrate_fleet.
test_fleet_migrations_call_migrate_functions() {
  put m/1_users.up.sql <<'EOF2'
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));
EOF2
  put m/2_rows.up.sql <<'EOF2'
INSERT INTO users VALUES (1, 'a@x'), (2, 'b@x'), (3, 'a@x');
INSERT INTO posts VALUES (1, 3), (2, 2), (3, 1);
EOF2
  put m/3_unique.up.sql <<<"SELECT migrate_add_unique('users', 'email', NULL, 'merge');"
  mkdir t
  : >t/one.db
  sqlite_q t/two.db "SELECT migrate_apply('m', '1');" "1"
  : >ref.db
  sqlite_q ref.db "PRAGMA foreign_keys = ON; SELECT migrate_apply('m');" "3"
  sqlite_q :memory: "PRAGMA foreign_keys = ON;
SELECT path, version_after, applied, state, error FROM migrate_fleet('m', 't/*.db') WHERE path IS NOT NULL;" \
    "t/one.db|3|3|migrated|
t/two.db|3|2|migrated|"
  local q=".schema
SELECT * FROM users ORDER BY id; SELECT * FROM posts ORDER BY id; SELECT id, email FROM users_duplicates;
SELECT version, name, checksum, success FROM migrate_history ORDER BY id;
SELECT operation, fingerprint FROM migrate_schema_history ORDER BY id;"
  sqlite_run --no-load ref.db <<<"$q"
  expect_rc 0
  local ref=$OUT
  sqlite_run --no-load t/one.db <<<"$q"
  expect_ok "$ref"
  sqlite_run --no-load t/two.db <<<"SELECT * FROM users ORDER BY id; SELECT * FROM posts ORDER BY id;"
  expect_ok "1|a@x
2|b@x
1|1
2|2
3|1"

  # what a migration may not call under migrate_apply, it may not call under migrate_fleet
  put m/4_nested.up.sql <<<"SELECT migrate_apply('m');"
  cp t/one.db before.db
  sqlite_q :memory: "SELECT path, applied, state, error FROM migrate_fleet('m', 't/one.db') WHERE path IS NOT NULL;" \
    "t/one.db|0|failed|migration 4 (4_nested.up.sql, line 1): migrate_apply cannot be called while migrate_fleet is running on this connection: a migration may call migrate_add_unique, migrate_duplicates, migrate_nulls, migrate_set_not_null, migrate_add_column and (on SQLite) migrate_rebuild, no other function of migrate"
  cmp -s t/one.db before.db || fail "the refused nested call changed t/one.db"
}
