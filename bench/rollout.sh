#!/usr/bin/env bash
# Rollout control overhead with an instant deploy and no gate: a `command` driver whose deploy
# is `true`, rolled out by `tandem serve` to 25 markets in 5 waves. Baseline, same run: the
# same 25 `sh -c true` one after the other (what the deploy itself costs).
# Usage: bench/rollout.sh [runs]   (needs a release build: cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
# shellcheck source=bench/instant-app.sh
source bench/instant-app.sh
api() { curl -sf -H "Authorization: Bearer $token" -H "content-type: application/json" "$@"; }
base="http://127.0.0.1:$port/api/v1"
for i in $(seq "$runs"); do
  # A new release each time: a market already on a release is not deployed again.
  (cd "$work/app" && echo "$i" > version.txt && git add . && git -c user.name=b -c user.email=b@b commit -qm "v$i")
  run=$(api -X POST -d '{}' "$base/services/app/runs" | python3 -c "import json,sys; print(json.load(sys.stdin)['id'])")
  until api "$base/runs/$run" | grep -q "\"release\":\"v$i\""; do sleep 0.1; done
  release=$(api "$base/releases?service=app" | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
  id=$(api -X POST -d "{\"release_id\": $release}" "$base/rollouts" | python3 -c "import json,sys; print(json.load(sys.stdin)['id'])")
  until api "$base/rollouts/$id" | grep -q '"state":"succeeded"'; do sleep 0.02; done
  api "$base/rollouts/$id" > "$work/rollout-$i.json"
done
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
loop=$(ms sh -c 'for i in $(seq 25); do sh -c true; done')

python3 - "$work" "$runs" "$loop" <<'PY'
import json, statistics, sys
work, runs, loop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
totals = []
for i in range(1, runs + 1):
    r = json.load(open(f"{work}/rollout-{i}.json"))
    totals.append(r["finished_at"] - r["started_at"])
med = statistics.median(totals)
print(f"25-market rollout, instant deploy, no gate (median of {runs})  {med:.0f} ms  ({med/25:.1f} ms per market)")
print(f"  baseline: the same 25 deploys (sh -c true) in a loop        {loop} ms  (ratio {med/max(loop,1):.1f}x)")
PY
