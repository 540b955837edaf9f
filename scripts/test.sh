#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine, as root:
# sets everything up (scripts/setup.sh), then runs unit tests, root integration tests
# (private system bus, real polkitd, real users, the daemon), and image builds with qemu boots.
# One node --test run, files in that order, so CI reads one summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

files=()
for group in unit integration images; do
  while IFS= read -r f; do files+=("$f"); done < <(find "dist/test/$group" -name '*.test.js' 2>/dev/null | sort)
done
# The leak check runs last: it proves the whole run left nothing behind.
[ -f dist/test/zz-leaks.test.js ] && files+=(dist/test/zz-leaks.test.js)

exec node --test --test-concurrency=1 --test-reporter=spec "${files[@]}" "$@"
