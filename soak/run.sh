#!/usr/bin/env bash
# dhcpd-ts soak: the reliability tests of issue 8 at their long figures (soak/README.md).
# Usage: bash soak/run.sh [fuzz] [failover] [fosrv] [crash] [disk] [overload] [offer] [privileges]   (default: all)
# Needs root and a build (`make soak` builds first). Prints each test's figures; exit status 1 if any failed.
set -u
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "soak: needs root (network namespaces, tmpfs in a private mount namespace)" >&2; exit 1; fi
if [ ! -f dist/src/cli/main.js ]; then echo "soak: no build in dist/ (run make build)" >&2; exit 1; fi

declare -A FILES=(
  [fuzz]=reliability-packet-fuzz
  [failover]=reliability-failover-fuzz
  [fosrv]=reliability-failover-server
  [crash]=reliability-crash
  [disk]=reliability-disk
  [overload]=reliability-overload
  [offer]=reliability-offer-memory
  [privileges]=reliability-privileges
)
ORDER=(fuzz failover fosrv crash disk overload offer privileges)
want=("$@")
[ ${#want[@]} -eq 0 ] && want=("${ORDER[@]}")

export RELIABILITY_SOAK=1
export RELIABILITY_FIGURES="${SOAK_FIGURES:-/tmp/dhcpd-ts-soak-$(date -u +%Y%m%dT%H%M%SZ).jsonl}"
: > "$RELIABILITY_FIGURES"
status=0
for name in "${want[@]}"; do
  f="${FILES[$name]:-}"
  if [ -z "$f" ]; then echo "soak: unknown part '$name' (one of: ${ORDER[*]})" >&2; exit 2; fi
  js="dist/test/integration/$f.test.js"
  if [ ! -f "$js" ]; then echo "soak: $js missing (make build)" >&2; status=1; continue; fi
  echo "=== soak: $name ($js) started $(date -u +%H:%M:%S)"
  start=$(date +%s)
  if ! node --test --test-reporter=spec --test-concurrency=1 "$js"; then status=1; fi
  echo "=== soak: $name finished in $(( $(date +%s) - start )) s"
done

echo
echo "=== soak figures ($RELIABILITY_FIGURES)"
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
for (const l of lines) {
  const o = JSON.parse(l);
  const { test, soak, at, ...rest } = o;
  console.log(`${test}:`);
  for (const [k, v] of Object.entries(rest)) console.log(`  ${k.padEnd(28)} ${v}`);
}' "$RELIABILITY_FIGURES"
exit $status
