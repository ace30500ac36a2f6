# Migration files for the shell suites (tests/sqlite, tests/cases): writing them and the
# checksums migrate records of them.
# shellcheck shell=bash

# put PATH < TEXT: write stdin to PATH, making its folder.
put() {
  mkdir -p "$(dirname "$1")"
  cat >"$1"
}

# sha FILE / sha_text TEXT: the SHA-256 hex digest migrate records.
sha() { sha256sum "$1" | cut -c1-64; }
sha_text() { printf '%s' "$1" | sha256sum | cut -c1-64; }

# hex_text TEXT: upper-case hex, as SQLite's hex() prints it.
hex_text() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n' | tr a-f A-F; }
