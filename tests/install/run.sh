#!/usr/bin/env bash
# Installation: make install and make uninstall, as a DBA runs them.
#   - into a DESTDIR: the SQLite module lands in the loader's default directory under PREFIX,
#     the PostgreSQL files where pg_config says, and uninstall takes every one of them away;
#   - for real (as root, or through sudo): the sqlite3 shell loads the module by name
#     (".load migrate"), so does Python's sqlite3 (load_extension("migrate")), and after
#     make uninstall neither does;
#   - one version: the control file, META.json (both of its version fields) and the
#     SQLite module's migrate_version() agree.
# Prints "ok - name" / "not ok - name" per check and "N passed, M failed" last.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
SQLITE3=${SQLITE3:-sqlite3}
passed=0
failed=0
check() { # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then
    echo "ok - $1"
    passed=$((passed + 1))
  else
    printf 'not ok - %s\n#   expected: %s\n#   got:      %s\n' "$1" "$2" "$3"
    failed=$((failed + 1))
  fi
}
if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else sudo=(false); fi
STAGE=$(mktemp -d /tmp/migrate-install.XXXXXX)
trap 'rm -rf "$STAGE"' EXIT
MULTIARCH=$(${CC:-cc} -print-multiarch 2>/dev/null)
LIBDIR=/usr/lib${MULTIARCH:+/$MULTIARCH}

# --- into a DESTDIR ---
make -s install DESTDIR="$STAGE/root" >/dev/null 2>&1
check "DESTDIR: the SQLite module in the loader's directory" "yes" \
  "$([ -f "$STAGE/root$LIBDIR/migrate.so" ] && echo yes || echo no)"
if command -v pg_config >/dev/null; then
  check "DESTDIR: the control file where pg_config says" "yes" \
    "$([ -f "$STAGE/root$(pg_config --sharedir)/extension/migrate.control" ] && echo yes || echo no)"
  check "DESTDIR: the PostgreSQL module where pg_config says" "yes" \
    "$([ -f "$STAGE/root$(pg_config --pkglibdir)/migrate.so" ] && echo yes || echo no)"
fi
make -s install-sqlite DESTDIR="$STAGE/other" PREFIX=/opt/migrate >/dev/null 2>&1
check "DESTDIR and PREFIX: the SQLite module under the prefix" "yes" \
  "$([ -f "$STAGE/other/opt/migrate/lib${MULTIARCH:+/$MULTIARCH}/migrate.so" ] && echo yes || echo no)"
make -s uninstall DESTDIR="$STAGE/root" >/dev/null 2>&1
check "DESTDIR: make uninstall leaves no file behind" "0" "$(find "$STAGE/root" -type f | wc -l)"

# --- for real: loaded by name ---
if [ -e "$LIBDIR/migrate.so" ]; then
  echo "not ok - $LIBDIR/migrate.so exists before the test: not touching it"
  failed=$((failed + 1))
elif "${sudo[@]}" make -s install-sqlite >/dev/null 2>&1; then
  cd "$STAGE"
  check "the sqlite3 shell loads the installed module by name" "ok" \
    "$("$SQLITE3" :memory: ".load migrate" "SELECT 'ok' WHERE migrate_version() IS NOT NULL;" 2>&1)"
  if /usr/bin/python3 -c 'import sqlite3; sqlite3.connect(":memory:").enable_load_extension(True)' 2>/dev/null; then
    check "Python's sqlite3 loads the installed module by name" "ok" \
      "$(/usr/bin/python3 -c '
import sqlite3
c = sqlite3.connect(":memory:")
c.enable_load_extension(True)
c.load_extension("migrate")
print("ok" if c.execute("SELECT migrate_version()").fetchone()[0] else "no")' 2>&1)"
  else
    echo "not ok - /usr/bin/python3 cannot load extensions (install python3)"
    failed=$((failed + 1))
  fi
  cd "$ROOT"
  "${sudo[@]}" make -s uninstall-sqlite >/dev/null 2>&1
  check "after make uninstall the shell no longer finds it" "no" \
    "$(cd "$STAGE" && "$SQLITE3" :memory: ".load migrate" "SELECT 'yes';" >/dev/null 2>&1 && echo yes || echo no)"
else
  echo "not ok - make install-sqlite needs root or sudo"
  failed=$((failed + 1))
fi

# --- one version everywhere ---
control=$(sed -n "s/^default_version = '\(.*\)'/\1/p" pg_ext/migrate.control)
check "META.json's version is the control file's" "$control" \
  "$(/usr/bin/python3 -c 'import json; print(json.load(open("META.json"))["version"])')"
check "META.json's provided version is the control file's" "$control" \
  "$(/usr/bin/python3 -c 'import json; print(json.load(open("META.json"))["provides"]["migrate"]["version"])')"
check "the SQLite module's migrate_version() is the control file's" "$control" \
  "$("$SQLITE3" :memory: ".load $ROOT/sqlite_ext/migrate" "SELECT migrate_version();" 2>&1)"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
