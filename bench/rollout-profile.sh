#!/usr/bin/env bash
# Where a rollout's server instructions go (issue 20): `tandem serve` runs under valgrind's
# callgrind with instrumentation off; it is switched on only from the rollout's request to its
# end, so the figures are the rollout's control path (and whatever else the server did meanwhile:
# the monitor, the commits' recording), not start-up or the pipeline that built the release.
# Instruction counts do not depend on the machine's load; the deploys' own `sh` processes are not
# traced (their fork and exec in the server are, as far as user space goes; kernel time is not).
#
# Usage: bench/rollout-profile.sh MARKETS [OUT]
#   bench/rollout-profile.sh 100 /tmp/cg100    writes /tmp/cg100/callgrind.out.* and prints
#                                              the instructions per market and the top functions
# BIN=path/to/tandem picks another build (default target/release/tandem).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
n=${1:?markets}
out=${2:-$(mktemp -d)}
mkdir -p "$out"
bin=${BIN:-$PWD/target/release/tandem}
work=$(mktemp -d)
serve_pid=
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

instant_repo "$work/app" app
{ wave_markets "$n"; printf 'services:\n  - { name: app, repo: %s }\n' "$work/app"; } > "$work/platform.yml"
port=$(free_port)
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/callgrind.out.%p" \
  "$bin" serve --data-dir "$work/data" --platform "$work/platform.yml" --listen "127.0.0.1:$port" \
  2> "$work/serve.log" &
serve_pid=$!
token=$(first_token "$work/data")
wait_healthy "$port"
base="http://127.0.0.1:$port/api/v1"
api() { curl -sf -H "Authorization: Bearer $token" -H "content-type: application/json" "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
run=$(api -X POST -d '{}' "$base/services/app/runs" | json "d['id']")
until api "$base/runs/$run" | grep -q '"release":"v'; do sleep 0.5; done
rel=$(api "$base/releases?service=app&limit=1" | json "d[0]['id']")
sleep 5 # the release's background work out of the way
callgrind_control -i on "$serve_pid" > /dev/null
id=$(api -X POST -d "{\"release_id\": $rel}" "$base/rollouts" | json "d['id']")
until [ "$(api "$base/rollouts?limit=1" | json "d[0]['finished_at'] is not None")" = True ]; do sleep 0.5; done
callgrind_control -i off "$serve_pid" > /dev/null
api "$base/rollouts?limit=1" | json "'rollout', d[0]['id'], d[0]['state'], d[0]['reason'] or ''"
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=
set +o pipefail
file=$(ls -S "$out"/callgrind.out.* | head -1)
total=$(callgrind_annotate "$file" 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1; exit}')
echo "markets $n: $total instructions, $((total / n)) per market ($file)"
# Our own functions, inclusive: where the instructions go.
callgrind_annotate --inclusive=yes "$file" 2>/dev/null | grep -E "tandem_(engine|store|server)::" | head -40 | cut -c1-160
