#!/usr/bin/env bash
# Measures Tandem as a user meets it, each figure next to a baseline taken in the same run:
#   - demo wall time, split into build (pipeline) and rollout; rollout control overhead;
#   - server start-up time and idle memory (RSS), against the shop process it deploys;
#   - binary size, against the shop binary.
# Usage: bench/run.sh [runs]   (needs a release build: cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
runs=${1:-3}
bin=target/release/tandem
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== demo ($runs runs)"
for i in $(seq "$runs"); do
  start=$(date +%s%N)
  "$bin" demo --json --exit-when-done --data-dir "$work/demo-$i" > "$work/demo-$i.json" 2>/dev/null
  end=$(date +%s%N)
  echo "$(( (end - start) / 1000000 ))" > "$work/demo-$i.wall"
done

# Serve the last demo's data again to read its rollout timings and to measure start-up and memory.
last="$work/demo-$runs"
token=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['token'])" "$last.json")
port=$(free_port)
start=$(date +%s%N)
"$bin" serve --data-dir "$last" --listen "127.0.0.1:$port" 2>/dev/null &
serve_pid=$!
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.005; done
serve_ready=$(( ($(date +%s%N) - start) / 1000000 ))
sleep 2
serve_rss=$(awk '/VmRSS/ {print $2}' "/proc/$serve_pid/status")
curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/rollouts/1" > "$work/rollout.json"
curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/rollouts/2" > "$work/rollout2.json"

# Baseline: the shop binary Tandem deploys, started the same way and measured the same way.
shop=$(ls "$last"/deploy/shop/releases/v1/shop)
shop_port=$(free_port)
config=$(ls "$last"/deploy/shop/markets/fr/config-*.json | head -1)
start=$(date +%s%N)
TANDEM_CONFIG_FILE=$config "$shop" --port "$shop_port" >/dev/null 2>&1 &
shop_pid=$!
until curl -sf "http://127.0.0.1:$shop_port/healthz" >/dev/null; do sleep 0.005; done
shop_ready=$(( ($(date +%s%N) - start) / 1000000 ))
sleep 2
shop_rss=$(awk '/VmRSS/ {print $2}' "/proc/$shop_pid/status")
kill "$shop_pid" ; kill -TERM "$serve_pid"; wait "$serve_pid" 2>/dev/null || true

python3 - "$work" "$runs" "$serve_ready" "$serve_rss" "$shop_ready" "$shop_rss" "$bin" "$shop" <<'PY'
import json, os, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
serve_ready, serve_rss, shop_ready, shop_rss = map(int, sys.argv[3:7])
tandem_bin, shop_bin = sys.argv[7], sys.argv[8]
walls, builds, rollouts = [], [], []
for i in range(1, runs + 1):
    s = json.load(open(f"{work}/demo-{i}.json"))
    walls.append(int(open(f"{work}/demo-{i}.wall").read()))
    builds.append(s["timings"]["pipeline_ms"])
    rollouts.append(s["timings"]["rollout_ms"])
    assert all(m["state"] == "live" for m in s["markets"]), "a demo run did not end with every market live"
r = json.load(open(f"{work}/rollout.json"))
rollout_ms = r["finished_at"] - r["started_at"]
# The critical path: each wave's span, from its first market's start to its last one's end
# (markets beyond the 8 deployed at once wait for a slot inside that span).
critical = 0
for w in r["waves"]:
    critical += max(m["deployment"]["finished_at"] for m in w["markets"]) - min(m["deployment"]["started_at"] for m in w["markets"])
probe_sum = sum(m["deployment"]["finished_at"] - m["deployment"]["started_at"] for w in r["waves"] for m in w["markets"])
# The demo's operator approves the waves after the pilot: that wait is a person's, not Tandem's.
pilot_done = max(m["deployment"]["finished_at"] for m in r["waves"][0]["markets"])
approvals = [d["decided_at"] for d in r["decisions"] if d["kind"] in ("approve", "promote")]
approval_wait = (min(approvals) - pilot_done) if approvals else 0
r2 = json.load(open(f"{work}/rollout2.json"))
recovery = [g for g in r2["waves"][0]["markets"][0]["gates"] if g["gate"] == "recovery"]
med = statistics.median
print(f"demo wall time (median of {runs})   {med(walls)/1000:.2f} s")
print(f"  build (pipeline: test + release build)  {med(builds)/1000:.2f} s  ({med(builds)/med(walls):.0%} of wall)")
print(f"  rollout to 25 markets            {med(rollouts)/1000:.2f} s  ({med(rollouts)/med(walls):.0%} of wall)")
print(f"rollout (server-side, last run)    {rollout_ms} ms")
print(f"  markets' own start+probe time, summed        {probe_sum} ms (25 markets)")
print(f"  ... on the critical path (waves' spans)      {critical} ms")
print(f"  waiting for the operator's approval           {approval_wait} ms")
overhead = rollout_ms - critical - approval_wait
print(f"  control overhead = rollout - critical path - approval wait   {overhead} ms  (ratio {(rollout_ms - approval_wait)/critical:.2f})")
if recovery:
    print(f"failed gate -> previous release answering (pilot, process driver)  {recovery[0]['value']:.1f} ms  ({recovery[0]['reason']})")
print(f"server start-up to /healthz        {serve_ready} ms  (shop baseline {shop_ready} ms, ratio {serve_ready/max(shop_ready,1):.1f}x)")
print(f"server idle RSS (25 markets live)  {serve_rss/1024:.1f} MiB  (shop baseline {shop_rss/1024:.1f} MiB, ratio {serve_rss/shop_rss:.1f}x)")
tb, sb = os.path.getsize(tandem_bin), os.path.getsize(shop_bin)
print(f"binary size                        {tb/1048576:.1f} MiB  (shop baseline {sb/1048576:.2f} MiB, ratio {tb/sb:.1f}x)")
PY
