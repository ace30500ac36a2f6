#!/usr/bin/env bash
# The SQLite suite again, against the current SQLite release instead of the system's: the
# library built as a shared object from the amalgamation better-sqlite3 ships on npm, and a
# sqlite3 shell built from the shell.c of the autoconf tarball node-sqlite3 ships, compiled
# against that library's header (a shell refuses a library whose version is not its header's,
# so the system's shell cannot be reused). The module under test is the one built for the
# system's SQLite: it must work in whatever SQLite its host links.
#
# Then the cases of the library's threading mode (run.sh's fleet_threading_mode) again, in a
# shell built from the same sources with the library single-threaded (SQLITE_THREADSAFE=0,
# compiled into the shell): what migrate_fleet does when sqlite3_threadsafe() is 0, which no
# distribution's library is.
#
#   tests/sqlite/latest.sh [PATTERN...]     (MIGRATE_SO as for run.sh)
#
# The packages are pinned by version and SHA-256, fetched once into build/sqlite-latest/; the
# builds are kept there too.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${SQLITE_LATEST_DIR:-$ROOT/build/sqlite-latest}
LIB_PKG=better-sqlite3-13.2.0.tgz
LIB_SHA=40487589df3496f2ee0079d22b73c63fccebe7db0e8ee9a2c42421861e321e0b
SHELL_PKG=sqlite3-6.0.1.tgz
SHELL_SHA=ab8d044a93e05bd031d7ea75547c7fa60387cdc259d27f93c0e3e2832c4b1df9
SHELL_AUTOCONF=sqlite-autoconf-3520000
REGISTRY=https://registry.npmjs.org

# fetch NAME PACKAGE SHA: the npm tarball, verified
fetch() {
  local name=$1 pkg=$2 sha=$3
  if [ ! -f "$OUT/$pkg" ] || ! echo "$sha  $OUT/$pkg" | sha256sum -c --quiet 2>/dev/null; then
    curl -fsSL --retry 3 -o "$OUT/$pkg.part" "$REGISTRY/$name/-/$pkg"
    echo "$sha  $OUT/$pkg.part" | sha256sum -c --quiet
    mv "$OUT/$pkg.part" "$OUT/$pkg"
  fi
}

# sources: the amalgamation and the shell, fetched and unpacked unless they are there already
sources() {
  [ -f "$OUT/src/package/deps/sqlite3/sqlite3.c" ] && [ -f "$OUT/src/$SHELL_AUTOCONF/shell.c" ] &&
    return
  fetch better-sqlite3 "$LIB_PKG" "$LIB_SHA"
  fetch sqlite3 "$SHELL_PKG" "$SHELL_SHA"
  rm -rf "$OUT/src" && mkdir -p "$OUT/src"
  tar xzf "$OUT/$LIB_PKG" -C "$OUT/src" package/deps/sqlite3/sqlite3.c package/deps/sqlite3/sqlite3.h
  tar xzf "$OUT/$SHELL_PKG" -C "$OUT/src" "package/deps/$SHELL_AUTOCONF.tar.gz"
  tar xzf "$OUT/src/package/deps/$SHELL_AUTOCONF.tar.gz" -C "$OUT/src" "$SHELL_AUTOCONF/shell.c"
}

mkdir -p "$OUT"
if [ ! -x "$OUT/sqlite3" ] || [ ! -f "$OUT/libsqlite3.so.0" ]; then
  sources
  # what a distribution's build enables, the session extension included (the shell uses it)
  flags=(-O1 -DSQLITE_ENABLE_COLUMN_METADATA=1 -DSQLITE_ENABLE_FTS3 -DSQLITE_ENABLE_FTS4
    -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_RTREE -DSQLITE_ENABLE_DBSTAT_VTAB
    -DSQLITE_ENABLE_MATH_FUNCTIONS -DSQLITE_ENABLE_SESSION -DSQLITE_ENABLE_PREUPDATE_HOOK
    -DSQLITE_THREADSAFE=1)
  ${CC:-cc} "${flags[@]}" -fPIC -shared -Wl,-soname,libsqlite3.so.0 -o "$OUT/libsqlite3.so.0" \
    "$OUT/src/package/deps/sqlite3/sqlite3.c" -lm -lpthread
  ${CC:-cc} "${flags[@]}" -I"$OUT/src/package/deps/sqlite3" -o "$OUT/sqlite3" \
    "$OUT/src/$SHELL_AUTOCONF/shell.c" -L"$OUT" -l:libsqlite3.so.0 -Wl,-rpath,"$OUT" -lm
fi
# the single-threaded shell: the library compiled into it, so no other library can be loaded in
# its place; -O0, since it runs one small case and compiles in a third of -O1's time
if [ ! -x "$OUT/sqlite3-single-thread" ]; then
  sources
  ${CC:-cc} -O0 -DSQLITE_THREADSAFE=0 -I"$OUT/src/package/deps/sqlite3" \
    -o "$OUT/sqlite3-single-thread.part" "$OUT/src/$SHELL_AUTOCONF/shell.c" \
    "$OUT/src/package/deps/sqlite3/sqlite3.c" -lm -ldl
  mv "$OUT/sqlite3-single-thread.part" "$OUT/sqlite3-single-thread"
fi
version=$("$OUT/sqlite3" :memory: 'SELECT sqlite_version()')
echo "# SQLite $version (system: $(sqlite3 :memory: 'SELECT sqlite_version()'))"
status=0
LD_LIBRARY_PATH="$OUT${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" SQLITE3="$OUT/sqlite3" \
  "$ROOT/tests/sqlite/run.sh" "$@" || status=$?

mode=$("$OUT/sqlite3-single-thread" :memory: \
  "SELECT compile_options FROM pragma_compile_options WHERE compile_options LIKE 'THREADSAFE=%'")
echo "# SQLite $version built $mode (sqlite3_threadsafe() is 0)"
if [ "$mode" != THREADSAFE=0 ]; then
  echo "not ok - the single-threaded shell says $mode, not THREADSAFE=0"
  exit 1
fi
SQLITE3="$OUT/sqlite3-single-thread" "$ROOT/tests/sqlite/run.sh" fleet_threading_mode || status=$?
exit "$status"
