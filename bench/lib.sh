# shellcheck shell=bash
# What the benchmark scripts share: medians, ratios, and cases timed in interleaved rounds.
# Figures, never pass/fail. A script sets RUNS (rounds) before calling interleaved.

# The median of the numbers on standard input, one per line.
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# a / b as "1.23x", or "n/a" when b is not positive.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }

# Run every case once per round, rounds interleaved so that drift in the machine's state (page
# cache, writeback, other work) falls on all cases alike; prints the median seconds of each case,
# in the order given, on one line. Cases are "name|template|sql"; $1 is the function timing one.
interleaved() {
  local timer=$1 i c name template sql
  shift
  declare -A times=()
  for ((i = 0; i < RUNS; i++)); do
    for c in "$@"; do
      IFS='|' read -r name template sql <<<"$c"
      times[$name]+="$("$timer" "$template" "$sql") "
    done
  done
  for c in "$@"; do
    # shellcheck disable=SC2086 # the times, one word each
    printf '%s ' "$(printf '%s\n' ${times[${c%%|*}]} | median)"
  done
  echo
}

# interleaved's twin for timers that print "real cpu": prints each case's median real seconds
# and median CPU seconds (user + system of the process), in order, on one line. On a machine
# shared with other work the CPU seconds are the steadier figure.
interleaved_cpu() {
  local timer=$1 i c real cpu name template sql
  shift
  declare -A reals=() cpus=()
  for ((i = 0; i < RUNS; i++)); do
    for c in "$@"; do
      IFS='|' read -r name template sql <<<"$c"
      read -r real cpu <<<"$("$timer" "$template" "$sql")"
      reals[$name]+="$real "
      cpus[$name]+="$cpu "
    done
  done
  for c in "$@"; do
    # shellcheck disable=SC2086 # the times, one word each
    printf '%s %s ' "$(printf '%s\n' ${reals[${c%%|*}]} | median)" \
      "$(printf '%s\n' ${cpus[${c%%|*}]} | median)"
  done
  echo
}

# PostgreSQL, on the cluster the PG* variables name. The seconds of every statement of sql on db
# (a script may define its own pg_time, which pg_fresh_time then uses).
pg_time() { # db sql
  psql -X -q -d "$1" -c '\timing on' -c "$2" 2>&1 | awk '/^Time:/ {t += $2} END {print t / 1000}'
}

# pg_time of sql on a fresh copy of the database template, after a checkpoint.
pg_fresh_time() { # template sql
  dropdb --if-exists bench_run >/dev/null 2>&1
  createdb -T "$1" bench_run
  psql -X -q -d bench_run -c CHECKPOINT
  pg_time bench_run "$2"
}
