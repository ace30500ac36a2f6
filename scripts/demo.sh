#!/usr/bin/env bash
# Quick-start demo: apply examples/ to a fresh demo.db with the SQLite extension and show
# migrations_status before and after. Run from the repository root (make demo does).
set -euo pipefail

cd "$(dirname "$0")/.."
SQLITE3=${SQLITE3:-sqlite3}
SO=./sqlite_ext/migrate

if [ ! -f "$SO.so" ]; then
  echo "demo: $SO.so is missing; build it with: make sqlite" >&2
  exit 1
fi
if ! command -v "$SQLITE3" >/dev/null; then
  echo "demo: the sqlite3 shell ($SQLITE3) is missing; make deps-demo installs it" >&2
  exit 1
fi

rm -f demo.db demo.db-journal demo.db-wal demo.db-shm

"$SQLITE3" -bail demo.db <<SQL
.load $SO
PRAGMA foreign_keys = ON;
.mode box
.print
.print == migrations_status('examples') before: everything is pending
SELECT version, name, state, script FROM migrations_status('examples');
.print
.print == migrate_plan('examples'): what migrate_apply will run, in order
SELECT step, direction, version, name FROM migrate_plan('examples');
.print
.print == SELECT migrate_apply('examples'): one transaction, returns how many were applied
SELECT migrate_apply('examples') AS applied;
.print
.print == migrations_status('examples') after
SELECT version, name, state, applied_at, applied_by, execution_ms FROM migrations_status('examples');
.print
.print == SELECT migrate_apply('examples') again: nothing is pending
SELECT migrate_apply('examples') AS applied;
.print
.print == the data: invoices after the table rebuild of 20240215120000
SELECT i.number, t.name AS team, p.name AS plan, printf('%.2f', i.amount) AS amount, i.status
FROM invoices i
JOIN subscriptions s ON s.id = i.subscription_id
JOIN teams t ON t.id = s.team_id
JOIN plans p ON p.id = s.plan_id
ORDER BY i.number;
SQL

echo
echo "demo.db is ready: sqlite3 demo.db, then .load $SO and SELECT * FROM migrations_status('examples');"
