#!/usr/bin/env bash
# Runs every test: the type check, the unit suites and the end-to-end suites that drive
# a real local cloud with the openstack CLI. Ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0
failed=0

if bash scripts/install-deps.sh; then passed=$((passed + 1)); else
  echo "install-deps: the Debian packages the tests need could not be installed" >&2
  failed=$((failed + 1))
fi

if npx tsc --noEmit; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

summary=$(mktemp)
FLARESTACK_SUMMARY_FILE="$summary" npx vitest run "$@"
if [ -s "$summary" ]; then
  read -r p f < <(node -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(s.passed, s.failed)' "$summary")
  passed=$((passed + p)); failed=$((failed + f))
else
  failed=$((failed + 1))
fi
rm -f "$summary"
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
