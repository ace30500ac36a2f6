#!/usr/bin/env bash
# shellcheck disable=SC2016 # backquotes are Markdown
# Copy tests/reliability/REPORT.md (written by the reliability and fuzz runs) into README.md,
# between the lines <!-- reliability:begin --> and <!-- reliability:end -->. When README.md has no
# such section yet, one is appended at its end under "## Reliability".
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
README="$ROOT/README.md"
REPORT="$HERE/REPORT.md"
BEGIN='<!-- reliability:begin -->'
END='<!-- reliability:end -->'

[ -f "$REPORT" ] || { echo "$REPORT is missing: run make reliability (and make fuzz-ci) first" >&2; exit 1; }

if ! grep -qxF "$BEGIN" "$README"; then
  {
    echo
    echo '## Reliability'
    echo
    echo 'What `make reliability` and `make fuzz-ci` (both part of `make check`) tried, as they last'
    echo 'reported it: `tests/reliability/update-readme.sh` copies their report here.'
    echo
    echo "$BEGIN"
    echo "$END"
  } >>"$README"
fi
grep -qxF "$END" "$README" || { echo "README.md has $BEGIN but no $END" >&2; exit 1; }

tmp=$(mktemp)
awk -v begin="$BEGIN" -v end="$END" -v report="$REPORT" '
  $0 == begin { print; while ((getline line < report) > 0) print line; skipping = 1; next }
  $0 == end { skipping = 0 }
  !skipping { print }
' "$README" >"$tmp"
cat "$tmp" >"$README"
rm -f "$tmp"
echo "README.md: the reliability section now holds $(wc -l <"$REPORT") lines of $REPORT"
