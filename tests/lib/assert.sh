# The assertions of every shell suite (tests/sqlite, tests/cases, tests/pg/scenarios,
# tests/reliability); sourced by each suite's helpers. Engine runners live with the suites and
# say which engine they run: sqlite_run / sqlite_q (tests/sqlite/lib.sh), pg_q (tests/pg/cluster.sh).
# shellcheck shell=bash disable=SC2034  # the counters are read by the runners
#
# A check is one result line. check_begin NAME starts it; expect_* and fail record what went
# wrong; check_end prints "ok - NAME", or "not ok - NAME" followed by each failure with every
# line prefixed "#   ", and counts the check. checks_summary prints the last line of every suite,
# "N passed, M failed", and fails when a check failed.
#
# ASSERT_CONTEXT, when set, names what the failing expectation was about (the run it checks);
# it is added to every message in parentheses.
#
# The expect_* functions always return 0: a failed expectation is recorded, and the check goes
# on so that one run shows every difference.

CHECK_NAME=
CHECK_FAILS=()
CHECKS_PASSED=0
CHECKS_FAILED=0
# check_end prints at most CHECK_MAX_FAILS failures of CHECK_MAX_CHARS characters each (0: all).
CHECK_MAX_FAILS=${CHECK_MAX_FAILS:-20}
CHECK_MAX_CHARS=${CHECK_MAX_CHARS:-4000}

# check_begin NAME: start collecting the failures of one result line.
check_begin() {
  CHECK_NAME=$1
  CHECK_FAILS=()
}

# fail MESSAGE: a failed expectation of the current check (MESSAGE may span lines).
fail() {
  CHECK_FAILS+=("$*")
}

# check_failed: true when the current check has recorded a failure.
check_failed() {
  [ ${#CHECK_FAILS[@]} -gt 0 ]
}

# check_end: print and count the result line of the current check; returns 1 when it failed.
check_end() {
  if ! check_failed; then
    CHECKS_PASSED=$((CHECKS_PASSED + 1))
    echo "ok - $CHECK_NAME"
    return 0
  fi
  CHECKS_FAILED=$((CHECKS_FAILED + 1))
  echo "not ok - $CHECK_NAME"
  local f n=0
  for f in "${CHECK_FAILS[@]}"; do
    n=$((n + 1))
    if [ "$CHECK_MAX_FAILS" -gt 0 ] && [ $n -gt "$CHECK_MAX_FAILS" ]; then
      echo "#   ... and $((${#CHECK_FAILS[@]} - CHECK_MAX_FAILS)) more"
      break
    fi
    [ "$CHECK_MAX_CHARS" -gt 0 ] && f=${f:0:CHECK_MAX_CHARS}
    printf '%s\n' "$f" | sed 's/^/#   /'
  done
  return 1
}

# check_failures: print the failures of the current check as they are, one message after the
# other (for a runner that collects a check's output and reports it in its own process).
check_failures() {
  [ ${#CHECK_FAILS[@]} -eq 0 ] || printf '%s\n' "${CHECK_FAILS[@]}"
}

# checks_summary: the last line of a suite; returns 1 when any check failed.
checks_summary() {
  echo "$CHECKS_PASSED passed, $CHECKS_FAILED failed"
  [ "$CHECKS_FAILED" -eq 0 ]
}

# check_selected NAME [PATTERN...]: true when no pattern is given or one matches NAME (a bash
# glob matched anywhere in it): the runners' way of running a subset.
check_selected() {
  local name=$1 pattern
  shift
  [ $# -eq 0 ] && return 0
  for pattern in "$@"; do
    # shellcheck disable=SC2053
    [[ $name == *$pattern* ]] && return 0
  done
  return 1
}

# The " (context)" suffix of a message.
assert_context() {
  [ -z "${ASSERT_CONTEXT:-}" ] || printf ' (%s)' "$ASSERT_CONTEXT"
}

# --- comparing values ---------------------------------------------------------------------------

# expect_eq LABEL EXPECTED ACTUAL: exact comparison; a one-line message for one-line values,
# a unified diff otherwise.
expect_eq() {
  [ "$2" == "$3" ] && return 0
  if [[ $2 != *$'\n'* && $3 != *$'\n'* ]]; then
    fail "$1: expected [$2], got [$3]$(assert_context)"
  else
    fail "$1 differs$(assert_context)"$'\n'"$(diff -u --label expected --label actual \
      <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/    /')"
  fi
}

# expect_match LABEL EXTENDED-REGEX TEXT: the regex matches the text as a whole (^ and $ are its
# start and end; . matches a newline too).
expect_match() {
  [[ $3 =~ $2 ]] && return 0
  fail "$1 does not match /$2/$(assert_context)"$'\n'"$(printf '%s\n' "${3:0:2000}" |
    sed 's/^/    actual: /')"
}

# expect_line LABEL EXTENDED-REGEX TEXT: some line of the text matches (grep -E).
expect_line() {
  # a here-string, not a pipe: with pipefail, grep -q quitting early fails printf with SIGPIPE
  grep -Eq -- "$2" <<<"$3" && return 0
  fail "$1: no line matches /$2/$(assert_context) in: ${3:0:2000}"
}

# expect_no_line LABEL EXTENDED-REGEX TEXT: no line of the text matches.
expect_no_line() {
  grep -Eq -- "$2" <<<"$3" || return 0
  fail "$1: unexpected /$2/$(assert_context) in: ${3:0:2000}"
}

# expect_same LABEL EXPECTED-FILE ACTUAL-FILE: the files are equal; a unified diff otherwise.
expect_same() {
  local d
  d=$(diff -u "$2" "$3") && return 0
  fail "$1 differ$(assert_context):"$'\n'"$d"
}

# --- the last run of an engine: OUT (stdout), ERR (stderr, normalised), RC (exit status) ------

# A runner sets ASSERT_SKIP_RUN=1 when the run was already reported failed as a whole (a
# valgrind or sanitizer report): what it printed is not compared again.
ASSERT_SKIP_RUN=0

expect_out() { [ "$ASSERT_SKIP_RUN" = 1 ] || expect_eq stdout "$1" "$OUT"; }
expect_err() { [ "$ASSERT_SKIP_RUN" = 1 ] || expect_eq stderr "$1" "$ERR"; }

# expect_rc CODE: the exit status of the last run.
expect_rc() {
  [ "$ASSERT_SKIP_RUN" = 1 ] && return
  if [ "$RC" != "$1" ]; then
    fail "exit code $RC, expected $1$(assert_context)${ERR:+$'\n'}$(printf '%s' "$ERR" |
      sed 's/^/    stderr: /')"
  fi
}

# expect_ok STDOUT: the last run succeeded, said nothing on stderr and printed exactly STDOUT.
expect_ok() {
  expect_rc 0
  expect_err ""
  expect_out "$1"
}

# expect_error STDERR [STDOUT]: the last run failed (exit 1) with exactly STDERR (and STDOUT).
expect_error() {
  expect_rc 1
  expect_err "$1"
  [ $# -lt 2 ] || expect_out "$2"
}
