#!/usr/bin/env bash
# SQL statements per market of a rollout (issue 20): a platform of N markets in 5 waves, one
# service whose `command` deploy is `true`, served by `tandem serve` with sqlx's statement log
# on; counts the `sqlx::query` lines from the first "wave started" to "rollout done", per market.
#
# Usage: bench/statements.sh [markets] [runs]     (default 100 markets, 1 run)
# BIN=path/to/tandem picks another build (default target/release/tandem).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}
runs=${2:-1}
bin=${BIN:-$PWD/target/release/tandem}
[ -x "$bin" ] || { echo "build first: cargo build --release (or set BIN)" >&2; exit 1; }
work=$(mktemp -d)
serve_pid=
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; rm -rf "$work"' EXIT
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

mkdir -p "$work/app"
cat > "$work/app/tandem.yml" <<YML
service: app
pipeline:
  jobs:
    build:
      steps: [{ run: echo ok > out.txt }]
      artifacts: [out.txt]
deploy:
  driver: command
  run: "true"
YML
(cd "$work/app" && git init -q -b main && git add . && git -c user.name=b -c user.email=b@b commit -qm app)
python3 - "$n" "$work" > "$work/platform.yml" <<'PY'
import sys
n, work = int(sys.argv[1]), sys.argv[2]
ids = [f"m{i:04d}" for i in range(1, n + 1)]
rest = n - 1
sizes = [1, rest // 8, rest // 8, rest // 4]
sizes.append(n - sum(sizes))
print("markets:")
for m in ids:
    print(f"  - {{ id: {m}, name: M-{m}, region: eu, currency: EUR, locale: en-GB, timezone: Europe/Paris }}")
print("waves:")
at = 0
for w, size in enumerate(sizes):
    if size > 0:
        print(f"  - {{ name: w{w + 1}, markets: [{', '.join(ids[at:at + size])}] }}")
    at += size
print(f"services:\n  - {{ name: app, repo: {work}/app }}")
PY
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
TANDEM_LOG=info,sqlx::query=debug NO_COLOR=1 "$bin" serve --data-dir "$work/data" --platform "$work/platform.yml" \
  --listen "127.0.0.1:$port" 2> "$work/serve.log" > "$work/serve.out" &
serve_pid=$!
until [ -s "$work/data/first-admin-token" ] || grep -q "tdm_" "$work/serve.log" 2>/dev/null; do sleep 0.05; done
token=$(grep -oh "tdm_[a-zA-Z0-9_]*" "$work/data/first-admin-token" "$work/serve.log" 2>/dev/null | head -1)
until curl -sf "http://127.0.0.1:$port/healthz" > /dev/null; do sleep 0.05; done
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
