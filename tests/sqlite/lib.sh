# Helpers of the SQLite test suite; sourced by run.sh.
# shellcheck shell=bash disable=SC2034  # the variables set here are used by the test files
#
# Every case runs in a subshell whose working directory is a fresh temporary folder. A case calls
# sqlite_run (or sqlite_q) to run the real sqlite3 shell (with the extension loaded) and the
# expect_* assertions of tests/lib/assert.sh to check what came out; a failed expectation is
# recorded with a diff, and the case goes on so that one run shows every difference.

# --- how sqlite3 is run ------------------------------------------------------------------------

SQLITE3=${SQLITE3:-sqlite3}
: "${MIGRATE_SO:?MIGRATE_SO must be the path of the extension without .so (as .load takes it)}"
MIGRATE_VALGRIND=${MIGRATE_VALGRIND:-0}
MIGRATE_SANITIZE=${MIGRATE_SANITIZE:-0}
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The command every sqlite3 invocation is prefixed with.
RUNNER=()
# Per-invocation wall clock limit: a hang is a failure, not a stuck suite.
SQ_TIME_LIMIT=120
if [ "$MIGRATE_VALGRIND" = 1 ]; then
  # shellcheck disable=SC2054  # commas inside an option, not between elements
  RUNNER=(valgrind -q --error-exitcode=99 --leak-check=full
          --errors-for-leak-kinds=definite,indirect,possible)
  SQ_TIME_LIMIT=600
fi
if [ "$MIGRATE_SANITIZE" = 1 ]; then
  # The shell is not instrumented, so the ASan runtime must be loaded first. Any report makes the
  # process exit 98; leaks of the shell itself (none so far) may be suppressed in lsan.supp, by
  # frames outside migrate.so only: our leaks must fail.
  RUNNER=(env "LD_PRELOAD=$(${CC:-cc} -print-file-name=libasan.so)"
          "ASAN_OPTIONS=detect_leaks=1:exitcode=98:abort_on_error=0"
          "LSAN_OPTIONS=suppressions=$LIB_DIR/lsan.supp:print_suppressions=0"
          "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=98")
  SQ_TIME_LIMIT=300
fi

# Rows the slow migrations of the concurrency cases insert; valgrind is ~50 times slower.
BIG_ROWS=200000
BUSY_MS=5000
if [ "$MIGRATE_VALGRIND" = 1 ] || [ "$MIGRATE_SANITIZE" = 1 ]; then
  BIG_ROWS=20000
  BUSY_MS=120000
fi

# The account migrate_apply records as applied_by.
ME=$(id -un)

# --- assertions (tests/lib/assert.sh): fail, expect_eq, expect_ok, expect_error, ... ---------

# shellcheck source=../lib/assert.sh
. "$LIB_DIR/../lib/assert.sh"

# --- running sqlite3 ---------------------------------------------------------------------------

# The shell prefixes errors with where it was reading, differently across versions; keep the
# message only: "Runtime error near line 3: X", "Parse error near line 3: X", "Error: stepping, X",
# "Error: near line 3: X", "Error: X", a trailing " (19)" result code, and the quoted statement
# with a "^--- error here" pointer that follows a parse error.
normalize_errors() {
  sed -E -e 's/^(Runtime |Parse )?[Ee]rror near line [0-9]+: //' \
         -e 's/^Error: near line [0-9]+: //' \
         -e 's/^Error: (stepping, )?//' \
         -e 's/ \([0-9]+\)$//' |
    # newer shells quote the statement of a parse error and point at the place: drop both lines
    awk '/^ *\^--- error here$/ { held = 0; next }
         { if (held) print prev; prev = $0; held = 1 }
         END { if (held) print prev }'
}

# Check the raw stderr of a run for valgrind or sanitizer reports; $1 file, $2 exit code.
check_tool_errors() {
  local file=$1 rc=$2
  ASSERT_SKIP_RUN=0
  if [ "$rc" = 124 ]; then
    fail "sqlite3 did not finish within ${SQ_TIME_LIMIT}s (${ASSERT_CONTEXT:-})"
  fi
  if [ "$MIGRATE_VALGRIND" = 1 ] && { [ "$rc" = 99 ] || grep -q '^==[0-9]*==' "$file"; }; then
    fail "valgrind reported errors (${ASSERT_CONTEXT:-})"
    sed 's/^/    /' "$file"
    ASSERT_SKIP_RUN=1
  fi
  if [ "$MIGRATE_SANITIZE" = 1 ] &&
     { [ "$rc" = 98 ] || grep -Eq 'Sanitizer|runtime error:' "$file"; }; then
    fail "the sanitizers reported errors (${ASSERT_CONTEXT:-})"
    sed 's/^/    /' "$file"
    ASSERT_SKIP_RUN=1
  fi
}

# Split raw stderr into what the shell said (ERR, normalised) and drop tool reports.
read_results() {
  local out=$1 err=$2
  OUT=$(cat "$out")
  ERR=$(grep -Ev '^==[0-9]+==|^\*\*[0-9]+\*\*' "$err" | normalize_errors)
}

# sqlite_run [--no-bail] [--no-load] DB [sqlite3 options...] < SQL
# Runs the real sqlite3 shell on DB with the extension loaded (and -bail unless --no-bail),
# reading SQL from stdin. Sets OUT (stdout), ERR (stderr, normalised) and RC (exit code).
sqlite_run() {
  local bail=1 load=1
  while :; do
    case ${1-} in
      --no-bail) bail=0; shift ;;
      --no-load) load=0; shift ;;
      *) break ;;
    esac
  done
  local db=$1
  shift
  local args=(-batch)
  [ "$bail" = 1 ] && args+=(-bail)
  [ "$load" = 1 ] && args+=(-cmd ".load $MIGRATE_SO")
  cat >.sq.in
  SQ_RUNS=$((${SQ_RUNS:-0} + 1))
  ASSERT_CONTEXT="sqlite3 run $SQ_RUNS: $(grep -m1 -v '^[[:space:]]*$' .sq.in)"
  timeout "$SQ_TIME_LIMIT" "${RUNNER[@]}" "$SQLITE3" "${args[@]}" "$@" "$db" \
    <.sq.in >.sq.out 2>.sq.err
  RC=$?
  check_tool_errors .sq.err "$RC"
  read_results .sq.out .sq.err
}

# Failure messages name the sqlite3 run they are about by the first line of its SQL.
ASSERT_CONTEXT=

# sqlite_run_bg NAME DB INPUT [sqlite3 options...]: like sqlite_run, in the background, reading SQL from the file
# or FIFO INPUT. sqlite_wait NAME waits for it and sets OUT, ERR and RC.
sqlite_run_bg() {
  local name=$1 db=$2 input=$3
  shift 3
  local args=(-batch -bail -cmd ".load $MIGRATE_SO")
  SQ_RUNS=$((${SQ_RUNS:-0} + 1))
  timeout "$SQ_TIME_LIMIT" "${RUNNER[@]}" "$SQLITE3" "${args[@]}" "$@" "$db" \
    <"$input" >".bg.$name.out" 2>".bg.$name.err" &
  eval "BG_PID_$name=\$!"
}

sqlite_wait() {
  local name=$1 pid
  eval "pid=\$BG_PID_$name"
  wait "$pid"
  RC=$?
  ASSERT_CONTEXT="background sqlite3 $name"
  check_tool_errors ".bg.$name.err" "$RC"
  read_results ".bg.$name.out" ".bg.$name.err"
}

# sqlite_q DB SQL EXPECTED: run SQL (extension loaded) and expect it to succeed printing EXPECTED.
sqlite_q() {
  sqlite_run "$1" <<<"$2"
  expect_ok "$3"
}

# dump DB: the whole database (schema, rows and history) as text, to compare before and after a
# call.
dump() {
  sqlite_run --no-load "$1" <<<".dump"
  expect_ok "$OUT"
  DUMP=$OUT
}

# --- files: put, sha, sha_text, hex_text (tests/lib/files.sh) --------------------------------

# shellcheck source=../lib/files.sh
. "$LIB_DIR/../lib/files.sh"

# A GLOB applied_at must match: ISO-8601 UTC with milliseconds.
ISO_GLOB='[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'
