#!/usr/bin/env bash
# Install the Debian packages a make target needs, when any is missing:
#   install-deps.sh demo   what `make demo` needs: a compiler and SQLite
#   install-deps.sh        everything `make check` needs as well: check, PostgreSQL, valgrind, clang
set -euo pipefail
packages=(build-essential libsqlite3-dev sqlite3)
if [ "${1:-all}" != demo ]; then
  packages+=(check pkg-config python3 curl ca-certificates clang-format postgresql postgresql-server-dev-15 libpq-dev valgrind clang libclang-rt-14-dev)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "missing packages: ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
