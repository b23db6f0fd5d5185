#!/usr/bin/env bash
# 50 runs at once on one server: do all finish, and how long from queueing to a run's first
# step starting (p50, p99)? Baseline, in the same run: the same for 1 run alone.
# Usage: bench/concurrent.sh [runs]   (needs a release build: cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
n=${1:-50}
bin=$PWD/target/release/tandem
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/repo"
cat > "$work/repo/tandem.yml" <<'YML'
service: svc
pipeline:
  jobs:
    test:
      steps:
        - run: echo testing; sleep 0.2
    build:
      needs: [test]
      steps:
        - run: echo building > out.txt
      artifacts: [out.txt]
YML
(cd "$work/repo" && git init -q -b main && git add . && git -c user.name=b -c user.email=b@b commit -qm bench)
cat > "$work/platform.yml" <<YML
markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
services:
  - { name: svc, repo: $work/repo, branch: main }
YML
port=$(free_port)
"$bin" serve --data-dir "$work/data" --platform "$work/platform.yml" --listen "127.0.0.1:$port" 2> "$work/serve.log" &
server_pid=$!
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.05; done
token=$(grep -o 'tdm_[0-9a-f]*' "$work/data/first-admin-token" | head -1)
api() { curl -sf -H "Authorization: Bearer $token" "$@"; }
base="http://127.0.0.1:$port/api/v1"

wait_all() { # until no run is queued or running
  while api "$base/runs?limit=1000" | python3 -c "import json,sys; sys.exit(0 if any(r['state'] in ('queued','running') for r in json.load(sys.stdin)) else 1)"; do sleep 0.2; done
}

api -X POST "$base/services/svc/runs" >/dev/null   # alone, as the baseline
wait_all
start=$(date +%s%N)
for i in $(seq "$n"); do api -X POST "$base/services/svc/runs" >/dev/null & done
wait $(jobs -p | grep -v "^$server_pid$") 2>/dev/null || true
wait_all
wall=$(( ($(date +%s%N) - start) / 1000000 ))

ids=$(api "$base/runs?limit=1000" | python3 -c "import json,sys; print(' '.join(str(r['id']) for r in json.load(sys.stdin)))")
for id in $ids; do api "$base/runs/$id"; echo; done > "$work/runs.jsonl"
python3 - "$work/runs.jsonl" "$n" "$wall" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
n, wall = int(sys.argv[2]), int(sys.argv[3])
runs.sort(key=lambda r: r["id"])
alone, crowd = runs[0], runs[1:]
def first_step(r):
    starts = [s["started_at"] for j in r["jobs"] for s in j["steps"] if s["started_at"]]
    return min(starts) - r["created_at"]
waits = sorted(first_step(r) for r in crowd)
pct = lambda p: waits[min(len(waits) - 1, int(round(p / 100 * (len(waits) - 1))))]
states = {}
for r in crowd:
    states[r["state"]] = states.get(r["state"], 0) + 1
print(f"{n} runs at once: {states}, all done in {wall} ms")
print(f"queue to first step: p50 {pct(50)} ms, p99 {pct(99)} ms  (one run alone: {first_step(alone)} ms)")
PY
