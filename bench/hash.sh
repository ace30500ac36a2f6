#!/usr/bin/env bash
# Hash throughput of the core's SHA-256: the code the CPU allows (SHA-NI where present) and the
# portable code (MIGRATE_SHA256=portable), in 1 MiB, 4 KiB and script-sized (400 byte) pieces,
# with sha256sum over 64 MiB for reference. Figures only, never pass/fail; not part of make bench.
#   bench/hash.sh [MiB hashed per figure, default 256]
set -euo pipefail
cd "$(dirname "$0")/.."
MIB=${1:-256}
out=$(mktemp -d /tmp/migrate-hash-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
${CC:-cc} -std=c11 -Wall -Wextra -Werror -O2 -D_GNU_SOURCE -Icommon -o "$out/hash_speed" \
  bench/hash_speed.c common/mig_sha256.c
grep -qw sha_ni /proc/cpuinfo 2>/dev/null && echo "CPU: sha_ni present" || echo "CPU: no sha_ni"
"$out/hash_speed" "$MIB"
MIGRATE_SHA256=portable "$out/hash_speed" "$MIB"
head -c $((64 << 20)) /dev/zero >"$out/zeros"
s=$(date +%s.%N)
sha256sum "$out/zeros" >/dev/null
e=$(date +%s.%N)
awk -v s="$s" -v e="$e" 'BEGIN {printf "sha256sum over 64 MiB:               %8.1f MB/s\n", 64 * 1048576 / (e - s) / 1e6}'
