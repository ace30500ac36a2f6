#!/usr/bin/env bash
# shellcheck disable=SC2016 # backquotes are Markdown
# Write tests/reliability/REPORT.md from the figures the tests recorded; nothing in it is typed.
#
#   report.sh tests STATS KNOWN   the reliability part, from run.sh's key=value STATS file and
#                                 the KNOWN file (one "not ok - ... # TODO known bug" line each);
#                                 the fuzzing part of an existing REPORT.md is kept
#   report.sh fuzz STATS          the fuzzing part, from fuzz/run.sh's "target execs seconds
#                                 result" lines; the rest of an existing REPORT.md is kept
#   report.sh sqlite STATS        the SQLite crash and fault-injection blocks only, from a run of
#                                 crash-sqlite and faults-sqlite alone (run.sh does it then); the
#                                 rest of the existing REPORT.md is kept, and the blocks say
#                                 where their figures come from
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPORT="$HERE/REPORT.md"
FUZZ_BEGIN='<!-- fuzz:begin -->'
FUZZ_END='<!-- fuzz:end -->'

# the lines between the fuzz markers of the current report (markers included)
fuzz_block() {
  if [ -f "$REPORT" ] && grep -qF "$FUZZ_BEGIN" "$REPORT"; then
    sed -n "\\|$FUZZ_BEGIN|,\\|$FUZZ_END|p" "$REPORT"
  else
    printf '%s\n%s\n%s\n' "$FUZZ_BEGIN" 'Fuzzing: not run yet (`make fuzz-ci` or `make fuzz`).' "$FUZZ_END"
  fi
}

# everything of the current report before the fuzz block
tests_block() {
  if [ -f "$REPORT" ] && grep -qF "$FUZZ_BEGIN" "$REPORT"; then
    sed -n "1,\\|$FUZZ_BEGIN|p" "$REPORT" | sed '$d'
  else
    printf '%s\n\n' 'Reliability tests: not run yet (`make reliability`).'
  fi
}

# v KEY: the last value recorded for KEY in $stats (0 when none)
v() {
  local x
  x=$(sed -n "s/^$1=//p" "$stats" | tail -n 1)
  echo "${x:-0}"
}

# The SQLite crash block: from its "**Crashes.**" line up to the PostgreSQL kill points (report.sh
# sqlite replaces exactly these lines). $sqlite_note: where its figures come from, when they come
# from a run of the SQLite parts alone.
sqlite_crash_block() {
  echo "**Crashes.** One \`migrate_apply\` call is killed mid-way; afterwards the database must pass its integrity check (SQLite \`PRAGMA integrity_check\`, PostgreSQL \`amcheck\` on every index and heap), be exactly as before the call or exactly as after it (schema, rows and history; never part of the call), and a new \`migrate_apply\` must end where a clean run ends.${sqlite_note:+ $sqlite_note}"
  echo
  echo "| engine and way of dying | migrations in the call | kill points | survived | found as before / after the call |"
  echo "|---|---|---|---|---|"
  echo "| SQLite, rollback journal: SIGKILL before chosen statements, at VM steps, before chosen file operations (journal, syncs, commit), after delays; the drift fingerprint (the schema read for it, its description, its INSERT into \`migrate_schema_history\`) | $(v sqlite_crash_migrations) | $(v sqlite_crash_rollback_points) | $(v sqlite_crash_rollback_survived) | $(v sqlite_crash_rollback_before) / $(v sqlite_crash_rollback_after) |"
  echo "| SQLite, WAL: the same, with WAL writes, syncs and checkpoints | $(v sqlite_crash_migrations) | $(v sqlite_crash_wal_points) | $(v sqlite_crash_wal_survived) | $(v sqlite_crash_wal_before) / $(v sqlite_crash_wal_after) |"
  echo
  echo "**SQLite: the column changes and the fleet, killed.** \`migrate_rebuild\` dropping a column, \`migrate_set_not_null\` with a fill and \`migrate_add_column\` with a fill, each on a table of $(v sqlite_crash_call_rows) rows with an index, a trigger and a table referencing it with \`ON DELETE CASCADE\` (foreign keys on), are killed with SIGKILL before $([ "$(v mode)" = full ] && echo 'each of their writing statements' || echo 'writing statements spread over each (every one in `make reliability-full`)'), at VM steps, before file operations ahead of and in their commit, and after a delay; \`migrate_fleet\` over three files (two new, one part-way; one worker) before file operations spread over its run and after a delay. Afterwards each file passes \`integrity_check\` and is exactly as before the call or as after a clean run (schema, every row, history), and where one is as before, the call again ends where a clean run ends for every file (the fleet: after every kill)."
  echo
  echo "| SQLite | \`migrate_rebuild\` | \`migrate_set_not_null\` | \`migrate_add_column\` | \`migrate_fleet\` | survived | kill points with \`migrate_apply\`'s |"
  echo "|---|---|---|---|---|---|---|"
  echo "| rollback journal | $(v sqlite_crash_rollback_rebuild_points) | $(v sqlite_crash_rollback_set_not_null_points) | $(v sqlite_crash_rollback_add_column_points) | $(v sqlite_crash_rollback_fleet_points) | $(v sqlite_crash_rollback_calls_survived) | $(v sqlite_crash_rollback_total_points) |"
  echo "| WAL | $(v sqlite_crash_wal_rebuild_points) | $(v sqlite_crash_wal_set_not_null_points) | $(v sqlite_crash_wal_add_column_points) | $(v sqlite_crash_wal_fleet_points) | $(v sqlite_crash_wal_calls_survived) | $(v sqlite_crash_wal_total_points) |"
}

# The SQLite fault-injection block: from its "**Failing allocations" line up to the
# concurrency part (report.sh sqlite replaces exactly these lines).
sqlite_faults_block() {
  echo "**Failing allocations and file operations** (SQLite, $(v sqlite_faults_mode) mode: \`make reliability\` tries every I/O point and about 150 allocation points spread over each call, about 40 of each kind for the fleet; \`make reliability-full\` every point (the fleet's allocations: about 1,000 of some 17,000), allocations failing once too, the fleet with two workers too, and WAL). Each call is run again and again on a fresh copy, failing its Nth allocation (from the Nth on), its Nth file operation (SQLITE_IOERR_*) or its Nth write (SQLITE_FULL), N = 1, 2, ... until it runs whole; after each run the call must have succeeded or failed with a message, \`PRAGMA integrity_check\` be ok, the database be exactly as before the call or as after a clean run, the same call again end where a clean run ends, and every allocation be freed ($(v sqlite_faults_points) injection points in all; $(v sqlite_faults_valgrind_points) of them again under valgrind). A rehearsal (\`migrate_check\`) must leave the database exactly as it was, and a success whose report differs from a clean run's must name the fault. The column changes run with foreign keys on and a table referencing theirs with \`ON DELETE CASCADE\`, and enforcement must be on again after every run. The fleet's connections allocate and do their file operations through the same allocator and VFS, on the workers' threads too, so a fault lands in whichever file the Nth operation belongs to; each file is checked on its own (exactly as before or after its own migrations, as after when its row says \`migrated\`, an error in its row when it says \`failed\`).${sqlite_note:+ $sqlite_note}"
  echo
  echo "| call (rollback journal) | allocation points | file-operation points | SQLITE_FULL points |"
  echo "|---|---|---|---|"
  fault_row() { # label key
    echo "| $1 | $(v sqlite_faults_"$2"_malloc_points) | $(v sqlite_faults_"$2"_io_points) | $(v sqlite_faults_"$2"_full_points) |"
  }
  fault_row "\`migrate_apply\`, 10 migrations in the three layouts" apply_10_migrations
  fault_row "\`migrate_to\` down to \`'0'\`" migrate_to_0
  fault_row "\`migrate_to\` down to a middle version" migrate_to_0005
  fault_row "\`migrate_to\` back up after \`'0'\`" migrate_to_0010_after_0
  fault_row "\`migrate_add_unique\`, \`keep_first\`, 50 duplicates" add_unique_keep_first
  fault_row "\`migrate_check\`, 5 migrations rehearsed with a 2-page cache (it spills)" check_5_migrations
  fault_row "\`migrate_apply\` after schema drift: the drift check and the fingerprint record" apply_after_drift
  fault_row "\`migrate_set_not_null\` with a fill" set_not_null_fill
  fault_row "\`migrate_set_not_null\`, \`quarantine\`" set_not_null_quarantine
  fault_row "\`migrate_add_column\` with a fill" add_column_fill
  fault_row "\`migrate_rebuild\` dropping a column" rebuild_drop_columns
  fault_row "\`migrate_fleet\`, 3 files, one worker" fleet_3_files
  [ "$(v sqlite_faults_mode)" = thorough ] && fault_row "\`migrate_fleet\`, 3 files, two workers" fleet_3_files_2_workers
  return 0
}

case ${1:-} in
  tests)
    stats=$2 known=$3 sqlite_note=
    fuzz=$(fuzz_block)
    {
      if [ "$(v mode)" = full ]; then
        made='`make reliability-full` (the thorough mode'
      else
        made='`make reliability` (the fast mode that `make check` runs; `make reliability-full` is the thorough one'
      fi
      echo "Figures written by $made: tests/reliability/run.sh, seed $(v seed)) on $(v date); every row is a count of checks that ran, not a claim."
      echo
      sqlite_crash_block
      echo
      places=$(sed -n 's/^pg_crash_place=//p' "$stats" | sed 's/^/`/; s/$/`/' | paste -sd ';' | sed 's/;/; /g')
      echo "**PostgreSQL kill points** ($(v pg_crash_points) in all: $(v pg_crash_named_points) named places × 3 ways of dying). The call is stopped at a named place by a gate, a statement that waits for an advisory lock a watcher session holds (the watcher sees it waiting in \`pg_locks\`, its \`application_name\` names the place), or, inside \`CREATE INDEX CONCURRENTLY\`, by an old snapshot the watcher keeps; the history INSERT is stopped by a BEFORE INSERT trigger on \`migrate_history\`, COMMIT by deferred constraint triggers. There it is ended by SIGKILL to its backend (the postmaster ends every backend and recovers), \`pg_terminate_backend\`, or the whole server stopped (\`pg_ctl stop -m immediate\`) and started again. Afterwards \`amcheck\` (\`bt_index_check\` of every btree index: history, application tables, catalogs; \`verify_heapam\` of every heap) is clean, no advisory lock is left, and the same call again ends where a clean run ends (schema, rows and history compared). \`migrate_apply\` ($(v pg_crash_migrations) migrations in one call) must be found exactly as before the call or as after it; \`migrate_script\` piped into \`psql\` ($(v pg_crash_script_migrations) migrations, each its own transaction, one marked \`-- migrate:no-transaction\` running \`DROP INDEX CONCURRENTLY IF EXISTS\` and \`CREATE INDEX CONCURRENTLY\`) must be found exactly where a clean piped run is at the version its history ends at (part-way: whole migrations only, the marked one apart). \`CALL migrate_apply_batches\` (the same migrations, $(v pg_crash_batch_size) per batch, each batch committed) must be found exactly where a clean \`migrate_apply\` up to the last migration of a committed batch leaves the database. \`migrate_check\` (the same migrations rehearsed, each in a savepoint, with \`migrate.check_lock_timeout = 0\`) must leave nothing: no schema, no rows, no history, no drift record, no advisory lock; the same rehearsal again reports what a clean one does. \`migrate_set_not_null\` (1666 NULLs of 5000 rows filled by an expression), \`migrate_add_column\` (a filled NOT NULL column) and \`migrate_add_unique\` with \`on_duplicate => 'merge'\` (500 duplicates moved aside, referencing rows re-pointed) are stopped in their fill \`UPDATE\`, at the start or end of each \`ALTER TABLE\` (an event trigger: \`ADD CONSTRAINT ... NOT VALID\`, \`VALIDATE CONSTRAINT\`, \`SET NOT NULL\`, \`DROP CONSTRAINT\`), in a re-pointing \`UPDATE\` or the move of a duplicate (row triggers), and at COMMIT, and must be found exactly as before the call or as after a clean one. The drift record (the \`migrate_schema_history\` row a changing call writes) is stopped by a BEFORE INSERT trigger; every state compared includes the newest drift record, how many there are, and an empty \`migrate_drift()\`. Places ($(v pg_crash_mode) mode; \`make reliability-full\` adds more starts, history INSERTs and commits): $places."
      echo
      echo "| call | way of dying | kill points | survived | found as before / part-way / after the call |"
      echo "|---|---|---|---|---|"
      for call in apply batches script check notnull addcol merge; do
        for how in sigkill terminate immediate; do
          case $call in
            apply) c='`migrate_apply`' ;;
            batches) c='`CALL migrate_apply_batches`' ;;
            check) c='`migrate_check` (rehearsal)' ;;
            notnull) c='`migrate_set_not_null`' ;;
            addcol) c='`migrate_add_column`' ;;
            merge) c="\`migrate_add_unique\`, \`'merge'\`" ;;
            *) c='`migrate_script` piped into `psql`' ;;
          esac
          case $how in
            sigkill) h='SIGKILL to the backend' ;;
            terminate) h='`pg_terminate_backend`' ;;
            *) h='`pg_ctl stop -m immediate`, start' ;;
          esac
          echo "| $c | $h | $(v pg_crash_${call}_${how}_points) | $(v pg_crash_${call}_${how}_survived) | $(v pg_crash_${call}_${how}_before) / $(v pg_crash_${call}_${how}_between) / $(v pg_crash_${call}_${how}_after) |"
        done
      done
      echo
      sqlite_faults_block
      echo
      echo "**Concurrency.** Several processes call \`migrate_apply\` on one database while migration files appear; a reader checks throughout that it never sees half of a call (a pair of migrations added together appears together, history agrees with the schema, tables are never partly filled)."
      echo
      echo "| engine | run | callers × calls | migrations | each applied exactly once | caller errors | reader checks |"
      echo "|---|---|---|---|---|---|---|"
      local_row() { # engine label key
        echo "| $1 | rounds: a pair added between rounds | $(v conc_"$3"_workers) × $(v conc_"$3"_rounds) | $(v conc_"$3"_rounds_migrations) | $(v conc_"$3"_rounds_once) | $(v conc_"$3"_rounds_errors) | $(v conc_"$3"_rounds_reader_checks) |"
        echo "| $1 | free: files appear while callers run | $(v conc_"$3"_workers) × $(v conc_"$3"_rounds) | $(v conc_"$3"_free_migrations) | $(v conc_"$3"_free_once) | $(v conc_"$3"_free_errors) | $(v conc_"$3"_free_reader_checks) |"
      }
      local_row "SQLite, rollback journal" "" sqlite_delete
      local_row "SQLite, WAL" "" sqlite_wal
      local_row "PostgreSQL" "" pg
      echo
      echo "**Soak.** For a bounded time ($(v soak_sqlite_seconds) s per engine here; \`make reliability-full\`: 300 s), 8 sessions call \`migrate_apply\` on the same folder, racing, while a feeder adds a migration every 0.5 s (columns added to the application's table, indexes created and dropped on it, tables filled from it, UPDATEs of it), and 8 other sessions insert into and update that same table and read their rows back. Afterwards every acknowledged write must be there (rows and counters), every migration applied exactly once (history, the counts the calls returned, the schema), and no session error be other than the documented ones (SQLite's \`database is locked\` after the busy timeout, on PostgreSQL a call that gave up after its last lock retry). On PostgreSQL the appliers set \`migrate.lock_timeout = '$(v soak_pg_lock_timeout)'\` with \`migrate.lock_retries = $(v soak_pg_lock_retries_setting)\` and no session sets \`lock_timeout\`: $(v soak_pg_lock_retries) statements of migrations timed out on a lock and their call ran again ($(v soak_pg_retried_calls) calls retried)."
      echo
      echo "| engine | seconds | appliers × writers | migrations / applied once | apply calls / that applied something | writes acknowledged / rows found | read-backs | documented errors (busy, lock timeout) | other errors |"
      echo "|---|---|---|---|---|---|---|---|---|"
      soak_row() { # label key
        echo "| $1 | $(v soak_"$2"_seconds) | $(v soak_"$2"_appliers) × $(v soak_"$2"_writers) | $(v soak_"$2"_migrations) / $(v soak_"$2"_history_rows) | $(v soak_"$2"_calls) / $(v soak_"$2"_calls_applying) | $(v soak_"$2"_acked) / $(v soak_"$2"_rows) | $(v soak_"$2"_reads) | $(v soak_"$2"_documented_errors) | $(v soak_"$2"_other_errors) |"
      }
      soak_row "SQLite, WAL" sqlite
      soak_row "PostgreSQL" pg
      echo
      echo "Two races of the free runs are also reproduced on purpose, on both engines (\`tests/reliability/races.sh\`): a call waiting for the lock while another applies a file that appeared meanwhile, and a temporary file renamed while calls read the folder ($(v races_sqlite_rename_errors) of $(v races_reads) SQLite calls and $(v races_pg_rename_errors) of $(v races_reads) PostgreSQL calls failed)."
      echo
      echo "**Hostile input.** $(v hostile_bad) bad inputs, each tried on both engines ($(( $(v hostile_bad) * 2 )) calls): binary and invalid UTF-8 scripts, NUL bytes, a 50 MiB script, duplicate versions, names without a version, missing, unreadable and looping folders and files, FIFOs, 20,000 files, scripts ending inside a string, identifier or comment, failing up and down scripts, bad targets, hostile \`migrate_add_unique\` arguments. $(v hostile_refused) of the $(( $(v hostile_bad) * 2 )) calls ended in a clear error naming the file (where there is one) with the database unchanged; $(v hostile_good) valid inputs that look hostile (a 100-digit version, names with spaces, quotes, newlines and non-ASCII, empty and comments-only scripts, BOM and CRLF, 20,000 files) applied on both engines."
      echo
      if [ -s "$known" ]; then
        echo "**Known bugs** these tests show (marked TODO, so they do not fail \`make check\`; \`REL_STRICT=1\` makes them fail):"
        echo
        sed -e 's/^not ok - //' -e 's/ # TODO known bug: / — /' -e 's/; *$//' -e 's/^/- /' "$known"
        echo
      fi
      echo "Run time: $(v seconds) s."
      echo
      printf '%s\n' "$fuzz"
    } >"$REPORT.tmp"
    mv "$REPORT.tmp" "$REPORT"
    ;;
  fuzz)
    stats=$2
    head=$(tests_block)
    {
      printf '%s\n\n' "$head"
      echo "$FUZZ_BEGIN"
      echo "**Fuzzing** (libFuzzer with AddressSanitizer and UndefinedBehaviorSanitizer, written by \`fuzz/run.sh\`, last run on $(date -u +%Y-%m-%d)):"
      echo
      echo "| target | what it checks | executions | seconds | result |"
      echo "|---|---|---|---|---|"
      while read -r t execs secs result; do
        case $t in
          fuzz_name) what='file names and versions: parse, ordering is a total preorder' ;;
          fuzz_sections) what='script text: UTF-8 check against a reference, sections, statement starts, lines' ;;
          fuzz_plan) what='random folders against random histories: states, plans, nothing applied twice' ;;
          *) what= ;;
        esac
        echo "| \`$t\` | $what | $execs | $secs | $result |"
      done <"$stats"
      echo "$FUZZ_END"
    } >"$REPORT.tmp"
    mv "$REPORT.tmp" "$REPORT"
    ;;
  sqlite)
    stats=$2
    if ! { [ -f "$REPORT" ] && grep -q '^\*\*Crashes\.\*\*' "$REPORT" && grep -q '^\*\*Failing allocations' "$REPORT"; }; then
      echo "$REPORT has no SQLite blocks to replace: run every part first" >&2
      exit 1
    fi
    sqlite_note="(These SQLite figures: \`tests/reliability/run.sh crash-sqlite faults-sqlite\`, $(v mode) mode, seed $(v seed), on $(v date).)"
    crash=$(sqlite_crash_block)
    faults=$(sqlite_faults_block)
    # each block runs from its first line up to the blank line before the next part's
    awk -v crash="$crash" -v faults="$faults" '
      /^\*\*Crashes\.\*\*/ { print crash; skipping = 1; next }
      /^\*\*Failing allocations/ { print faults; skipping = 1; next }
      skipping && /^\*\*(PostgreSQL kill points|Concurrency\.)/ { print ""; skipping = 0 }
      !skipping { print }
    ' "$REPORT" >"$REPORT.tmp"
    mv "$REPORT.tmp" "$REPORT"
    ;;
  *)
    echo "usage: $0 tests STATS KNOWN | fuzz STATS | sqlite STATS" >&2
    exit 2
    ;;
esac
