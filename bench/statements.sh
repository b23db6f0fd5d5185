#!/usr/bin/env bash
# SQL statements per market of a rollout (issue 20): a platform of N markets in 5 waves, one
# service whose `command` deploy is `true`, served by `tandem serve` with sqlx's statement log
# on; counts the `sqlx::query` lines from the first "wave started" to "rollout done", per market.
#
# Usage: bench/statements.sh [markets] [runs]     (default 100 markets, 1 run)
# BIN=path/to/tandem picks another build (default target/release/tandem).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
n=${1:-100}
runs=${2:-1}
bin=${BIN:-$PWD/target/release/tandem}
[ -x "$bin" ] || { echo "build first: cargo build --release (or set BIN)" >&2; exit 1; }
work=$(mktemp -d)
serve_pid=
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; rm -rf "$work"' EXIT
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

instant_repo "$work/app" app
{ wave_markets "$n"; printf 'services:\n  - { name: app, repo: %s }\n' "$work/app"; } > "$work/platform.yml"
port=$(free_port)
TANDEM_LOG=info,sqlx::query=debug NO_COLOR=1 "$bin" serve --data-dir "$work/data" --platform "$work/platform.yml" \
  --listen "127.0.0.1:$port" 2> "$work/serve.log" > "$work/serve.out" &
serve_pid=$!
token=$(first_token "$work/data" "$work/serve.log")
wait_healthy "$port"
base="http://127.0.0.1:$port/api/v1"
api() { curl -sf -H "Authorization: Bearer $token" -H "content-type: application/json" "$@"; }

for i in $(seq "$runs"); do
  (cd "$work/app" && echo "$i" > version.txt && git add . && git -c user.name=b -c user.email=b@b commit -qm "v$i")
  run=$(api -X POST -d '{}' "$base/services/app/runs" | json "d['id']")
  until api "$base/runs/$run" | grep -q '"release":"v'; do sleep 0.1; done
  rel=$(api "$base/releases?service=app&limit=1" | json "d[0]['id']")
  sleep 1 # the release's background work out of the way
  : > "$work/serve.log.mark"
  start=$(cat "$work/serve.log" "$work/serve.out" | wc -l)
  api -X POST -d "{\"release_id\": $rel}" "$base/rollouts" > /dev/null
  until api "$base/rollouts?limit=1" | json "d[0]['finished_at'] is not None" | grep -q True; do sleep 0.2; done
  sleep 0.5
  cat "$work/serve.log" "$work/serve.out" | tail -n +"$((start + 1))" | python3 -c "
import sys, re
lines = [l for l in sys.stdin]
s = next(i for i, l in enumerate(lines) if 'wave started' in l)
e = next(i for i, l in enumerate(lines) if 'rollout done' in l)
q = [l for l in lines[s:e] if 'sqlx::query' in l]
print(f'run $i: {len(q)} statements between the first wave and the end, {len(q) / $n:.1f} per market ($n markets)')
kinds = {}
for l in q:
    m = re.search(r'summary=\"([^\"]{0,60})', l)
    k = m.group(1) if m else '?'
    kinds[k] = kinds.get(k, 0) + 1
for k, c in sorted(kinds.items(), key=lambda kv: -kv[1])[:${TOP:-0}]:
    print(f'  {c / $n:6.2f}  {k}')
"
done
