#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine, as root:
# sets everything up (scripts/setup.sh), then runs, in this order, the fast unit tests, the root
# integration tests (private system bus, real polkitd, real users, the daemon), the image builds with
# qemu boots, and last a leak check over the whole run.
#   bash scripts/test.sh                 everything
#   bash scripts/test.sh unit [images]   only those groups (unit, integration, images)
# node --test sorts the files it is given, so each group is its own run; the totals are added up
# into one closing line at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "setup failed" >&2; exit 1; }

groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(unit integration images)

tapdir=$(mktemp -d /tmp/imgcreate-tap.XXXXXX)
trap 'rm -rf "$tapdir"' EXIT
status=0
run_group() { # name files...
  local name=$1; shift
  [ $# -eq 0 ] && return 0
  echo "=== $name ($# files) ==="
  node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tapdir/$name.tap" "$@" || status=1
}
for group in "${groups[@]}"; do
  mapfile -t files < <(find "dist/test/$group" -name '*.test.js' 2>/dev/null | sort)
  run_group "$group" "${files[@]}"
done
# The leak check runs last: it proves the whole run left nothing behind.
run_group leaks dist/test/zz-leaks.test.js

sum() { cat "$tapdir"/*.tap 2>/dev/null | awk -v k="$1" '$1=="#" && $2==k {n+=$3} END {print n+0}'; }
echo
echo "$(sum pass) passed, $(( $(sum fail) + $(sum cancelled) )) failed, $(sum skipped) skipped"
exit $status
