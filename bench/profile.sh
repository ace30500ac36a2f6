#!/usr/bin/env bash
# Profile migrate_apply of N generated migrations (default 5,000); not part of make bench.
#   - SQLite: callgrind of the sqlite3 shell (exact instruction counts; slow: about 20x the
#     native time, an hour for N = 5,000 on a loaded 2-core machine), and of the same SQL
#     piped in one transaction (the floor), for comparison; perf when it works here.
#   - PostgreSQL: perf (cpu-clock, call graphs) of the backend running migrate_apply, and of the
#     backend running the same scripts sent as one query (the floor).
# Usage: bench/profile.sh [N] [outdir]   (outdir defaults to a folder in /tmp, kept)
# Needs valgrind and perf (Debian: valgrind, linux-perf); prints where the reports are.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5000}
OUT=${2:-$(mktemp -d /tmp/migrate-profile.XXXXXX)}
mkdir -p "$OUT"
chmod 755 "$OUT"
make -s sqlite >/dev/null
python3 bench/gen.py "$N" "$OUT/m"
chmod -R a+rX "$OUT/m"
mkdir -p "$OUT/so" && cp sqlite_ext/migrate.so "$OUT/so/migrate.so"
perf_ok=0
perf record -e cpu-clock -o "$OUT/probe.data" true >/dev/null 2>&1 && perf_ok=1
rm -f "$OUT/probe.data"

echo "== SQLite, callgrind: migrate_apply and the floor ($N migrations)"
valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.migrate.out" \
  sqlite3 -bail "$OUT/cg-migrate.db" ".load $OUT/so/migrate" "SELECT migrate_apply('$OUT/m/migrate')" \
  >"$OUT/callgrind.migrate.log" 2>&1
valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.floor.out" \
  sqlite3 -bail "$OUT/cg-floor.db" ".read $OUT/m/floor/one_tx.sql" >"$OUT/callgrind.floor.log" 2>&1
callgrind_annotate --inclusive=yes --tree=calling "$OUT/callgrind.migrate.out" >"$OUT/callgrind.migrate.txt" 2>/dev/null
for f in migrate floor; do
  printf '%s: %s instructions\n' "$f" "$(awk '/^summary:|^totals:/ {print $2; exit}' "$OUT/callgrind.$f.out")"
done
echo "our functions (inclusive instructions, calls):"
grep -E '^ *[0-9,]+ .*\*  .*(mig_|engine_|run_body|read_folder|collect_pieces)' "$OUT/callgrind.migrate.txt" | head -30
echo "status and no-op over $N applied:"
valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.status.out" \
  sqlite3 -bail "$OUT/cg-migrate.db" ".load $OUT/so/migrate" "SELECT count(*) FROM migrations_status('$OUT/m/migrate')" \
  >/dev/null 2>&1
valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.noop.out" \
  sqlite3 -bail "$OUT/cg-migrate.db" ".load $OUT/so/migrate" "SELECT migrate_apply('$OUT/m/migrate')" \
  >/dev/null 2>&1
for f in status noop; do
  printf '%s: %s instructions\n' "$f" "$(awk '/^summary:|^totals:/ {print $2; exit}' "$OUT/callgrind.$f.out")"
done

if [ "$perf_ok" = 1 ] && command -v pg_config >/dev/null; then
  echo "== PostgreSQL, perf of the backend: migrate_apply and the floor sent as one query"
  make -s pg >/dev/null && make -s -C pg_ext install >/dev/null
  # shellcheck source=../tests/pg/cluster.sh
  . tests/pg/cluster.sh
  trap cluster_stop EXIT
  cluster_start fsync=on synchronous_commit=on shared_buffers=128MB max_locks_per_transaction=2048
  createdb mig && psql -X -q -d mig -c 'CREATE EXTENSION migrate'
  createdb floor
  echo "SELECT migrate_apply('$OUT/m/migrate');" >"$OUT/mig.sql"
  prof_backend() { # name db script
    rm -f "$OUT/pid.$1"
    { echo "SELECT pg_backend_pid() AS pid \\gset"; echo "\\o $OUT/pid.$1"; echo "SELECT :pid;"
      echo "\\o"; echo "SELECT pg_sleep(0.5);"; cat "$3"; } |
      psql -X -q -At -d "$2" -v ON_ERROR_STOP=1 >"$OUT/out.$1" 2>&1 &
    local bg=$!
    while [ ! -s "$OUT/pid.$1" ]; do sleep 0.05; done
    perf record -e cpu-clock -F 1000 -g -p "$(cat "$OUT/pid.$1")" -o "$OUT/perf.$1.data" >/dev/null 2>&1
    wait "$bg"
    printf '%s: backend CPU %s ms\n' "$1" "$(perf script -i "$OUT/perf.$1.data" -F time 2>/dev/null | wc -l)"
    perf report -i "$OUT/perf.$1.data" --children --sort sym -g none 2>/dev/null |
      grep -E '\] (run_guarded|SPI_execute|standard_ProcessUtility|AtSubCommit_smgr|AtEOSubXact_RelationCache|mig_history_append|SPI_prepare_params|raw_parser|index_build|mdimmedsync|LocalExecuteInvalidationMessage|heap_create_with_catalog)$' || true
  }
  prof_backend pg-migrate mig "$OUT/mig.sql"
  prof_backend pg-floor floor "$OUT/m/floor/one_query.psql"
fi
echo "reports in $OUT"
