#!/usr/bin/env bash
# The SQLite test suite: the real extension in the real sqlite3 shell, one case per function:
# the test_* functions of tests/sqlite/test_*.sh and the case_* functions of tests/cases/*.sh
# (the cases shared with PostgreSQL, through tests/cases/engine_sqlite.sh).
#
#   SQLITE3=sqlite3 MIGRATE_SO=/abs/path/sqlite_ext/migrate tests/sqlite/run.sh [PATTERN...]
#
# MIGRATE_SO is what .load takes (the path without .so). MIGRATE_VALGRIND=1 runs every sqlite3
# under valgrind; MIGRATE_SANITIZE=1 expects an -fsanitize=address,undefined build and preloads
# the ASan runtime. PATTERN (a bash glob, matched anywhere in the name) runs only the cases it
# matches: run.sh fk 'journal_*'.
# MIGRATE_TEST_KEEP=1 keeps the temporary folder of every failed case.
#
# Output: "ok - name" or "not ok - name" (followed by what differed) per case, then the line
# "N passed, N failed"; the exit code is non-zero when any case failed.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR
. "$HERE/lib.sh"

if ! command -v "$SQLITE3" >/dev/null; then
  echo "the sqlite3 shell ($SQLITE3) is missing" >&2
  exit 2
fi
if [ ! -f "$MIGRATE_SO.so" ]; then
  echo "$MIGRATE_SO.so is missing: build it first (make sqlite)" >&2
  exit 2
fi
case $MIGRATE_SO in
  /*) ;;
  *) MIGRATE_SO=$(cd "$(dirname "$MIGRATE_SO")" && pwd)/$(basename "$MIGRATE_SO") ;;
esac
REPO_ROOT=$(cd "$HERE/../.." && pwd)
export REPO_ROOT

# The shared cases (tests/cases/*.sh, run on PostgreSQL too) speak through these words.
CASES=$REPO_ROOT/tests/cases
# shellcheck source=../cases/engine_sqlite.sh
. "$CASES/engine_sqlite.sh"
# shellcheck source=../cases/common.sh
. "$CASES/common.sh"

# Source every test file and every shared case file, and list their cases (test_* and case_*
# functions) in the order they are written.
cases=()
for file in "$HERE"/test_*.sh "$CASES"/[a-z]*.sh; do
  case $file in "$CASES"/engine_*.sh | "$CASES"/common.sh | "$CASES"/run_*.sh) continue ;; esac
  # shellcheck disable=SC1090
  . "$file"
  while IFS= read -r name; do
    cases+=("$name")
  done < <(sed -n 's/^\(\(test\|case\)_[A-Za-z0-9_]*\)[[:space:]]*()[[:space:]]*{.*/\1/p' "$file")
done

dir=
# an interrupted run leaves no temporary folder behind
trap 'rm -rf "${dir:?}" "$dir.log"; exit 130' INT TERM
for name in "${cases[@]}"; do
  check_selected "$name" "$@" || continue
  dir=$(mktemp -d "${TMPDIR:-/tmp}/migrate-sqlite-test.XXXXXX")
  # the case runs in its own process and folder; its failures come back through its output
  (
    cd "$dir" || exit 1
    check_begin "$name"
    "$name"
    wait # nothing of a case may outlive it
    check_failures
    ! check_failed
  ) >"$dir.log" 2>&1
  status=$?
  label=${name#test_}
  check_begin "${label#case_}"
  if [ "$status" -ne 0 ]; then
    fail "$(cat "$dir.log")"
    [ "${MIGRATE_TEST_KEEP:-0}" = 1 ] && fail "(kept $dir)"
  fi
  CHECK_MAX_FAILS=0 CHECK_MAX_CHARS=0 check_end
  rm -f "$dir.log"
  if [ "$status" -eq 0 ] || [ "${MIGRATE_TEST_KEEP:-0}" != 1 ]; then
    rm -rf "$dir"
  fi
done

checks_summary
