#!/bin/sh
# CI's formatting check: every C source and header must be laid out by the project's .clang-format
# (clang-format --dry-run -Werror), except the files listed in tools/format.todo, which predate the check and
# are to be formatted in one commit when no branch is open on them (then the list goes). New files never go
# on the list. Usage: tools/format_check.sh   (exit 1 names the files that differ)
set -eu
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "format_check: no clang-format (apt-get install clang-format)"; exit 1; }
bad=0
for f in $(git ls-files '*.c' '*.h' '*.cu'); do
  grep -qx "$f" tools/format.todo 2>/dev/null && continue
  if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then echo "format_check: $f differs from .clang-format (clang-format -i $f)"; bad=1; fi
done
[ $bad -eq 0 ] && echo "format_check: every file outside tools/format.todo is formatted"
exit $bad
