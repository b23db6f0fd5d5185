#!/usr/bin/env bash
# Rollout control cost at scale (issue 20): a platform of N markets in 5 waves and S services,
# each a `command` driver whose deploy is `true` (instant) with no gate, served by `tandem serve`.
#
#   markets:  one service rolled out to N markets; per N the rollout's server-side time (its row's
#             started → finished), the server's CPU time over it (user + system, from /proc), and
#             the baseline of the same run: N × `sh -c true` one after the other.
#   services: S services × 25 markets, their S rollouts asked for at once; the span from the first
#             start to the last end, against the single service's rollout of the same run and
#             against 25·S × `sh -c true`.
#
# Usage: bench/scale.sh [runs] [markets…] [-- services…]
#   bench/scale.sh                     3 runs; N = 25 100 250 500 1000 5000; S = 1 10 30
#   bench/scale.sh 1 25 100 -- 1 10    a quick subset
#   bench/scale.sh 3 25 -- none        markets only
# BIN=path/to/tandem picks another build (default target/release/tandem: cargo build --release).
# PERF=DIR records each markets run's rollout with `perf record -e cpu-clock` (user and kernel
# time, sampled; no hardware counters needed) into DIR/rollout-N-R.data, for `perf report`;
# with PERF_STAT=1 it counts instead (CPU time, context switches, page faults per thread) into
# DIR/rollout-N-R.stat.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
runs=${1:-3}
[ $# -gt 0 ] && shift
markets=()
services=(1 10 30)
while [ $# -gt 0 ] && [ "$1" != "--" ]; do markets+=("$1"); shift; done
if [ $# -gt 0 ]; then
  shift
  services=()
  for s in "$@"; do [ "$s" != none ] && services+=("$s"); done
fi
[ ${#markets[@]} -eq 0 ] && markets=(25 100 250 500 1000 5000)

bin=${BIN:-$PWD/target/release/tandem}
[ -x "$bin" ] || { echo "build first: cargo build --release (or set BIN)" >&2; exit 1; }
root=$(mktemp -d)
serve_pid=
stop_server() { [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null; serve_pid=; }
trap 'stop_server; rm -rf "$root"' EXIT

ticks=$(getconf CLK_TCK)
# The server's CPU time so far (user + system, all threads), in ms.
cpu_ms() { awk -v t="$ticks" '{ print int(($14 + $15) * 1000 / t) }' "/proc/$serve_pid/stat"; }
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
loop() { ms sh -c "i=0; while [ \$i -lt $1 ]; do sh -c true; i=\$((i+1)); done"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# start_server WORK N S: N markets in 5 waves (1, then 1/8, 1/8, 1/4 and the rest of the others),
# S services app1…appS; sets port, token, serve_pid.
start_server() {
  local work=$1 n=$2 s=$3
  mkdir -p "$work"
  {
    wave_markets "$n"
    echo "services:"
    for k in $(seq "$s"); do echo "  - { name: app$k, repo: $work/app$k }"; done
  } > "$work/platform.yml"
  for k in $(seq "$s"); do instant_repo "$work/app$k" "app$k"; done
  port=$(free_port)
  "$bin" serve --data-dir "$work/data" --platform "$work/platform.yml" --listen "127.0.0.1:$port" 2> "$work/serve.log" &
  serve_pid=$!
  token=$(first_token "$work/data" "$work/serve.log")
  wait_healthy "$port"
  base="http://127.0.0.1:$port/api/v1"
}
api() { curl -sf -H "Authorization: Bearer $token" -H "content-type: application/json" "$@"; }

# release WORK SERVICE I: commits version I and waits for its release; prints its id.
release() {
  local work=$1 svc=$2 i=$3 run
  (cd "$work/$svc" && echo "$i" > version.txt && git add . && git -c user.name=b -c user.email=b@b commit -qm "v$i")
  run=$(api -X POST -d '{}' "$base/services/$svc/runs" | json "d['id']")
  until api "$base/runs/$run" | grep -q '"release":"v'; do sleep 0.1; done
  api "$base/releases?service=$svc&limit=1" | json "d[0]['id']"
}

# wait_done K: until the K newest rollouts have ended; prints them as JSON.
wait_done() {
  local out
  while :; do
    out=$(api "$base/rollouts?limit=$1")
    if echo "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if all(r['finished_at'] for r in d) else 1)"; then
      echo "$out"; return
    fi
    sleep 0.25
  done
}

results=$root/results.txt
: > "$results"

for n in "${markets[@]}"; do
  [ "$n" = none ] && continue
  work=$root/m$n
  start_server "$work" "$n" 1
  for i in $(seq "$runs"); do
    rel=$(release "$work" app1 "$i")
    sleep 0.5 # the release's background work (commit history) out of the way
    perf_pid=
    if [ -n "${PERF:-}" ]; then
      mkdir -p "$PERF"
      if [ -n "${PERF_STAT:-}" ]; then
        perf stat -e task-clock,context-switches,cpu-migrations,page-faults --per-thread -p "$serve_pid" -o "$PERF/rollout-$n-$i.stat" 2>/dev/null &
      else
        perf record -q -g -e cpu-clock -F 4000 -p "$serve_pid" -o "$PERF/rollout-$n-$i.data" 2>/dev/null &
      fi
      perf_pid=$!
      sleep 0.5
    fi
    before=$(cpu_ms)
    api -X POST -d "{\"release_id\": $rel}" "$base/rollouts" > /dev/null
    out=$(wait_done 1)
    after=$(cpu_ms)
    [ -n "$perf_pid" ] && kill -INT "$perf_pid" && wait "$perf_pid" || true
    base_ms=$(loop "$n")
    echo "$out" | python3 -c "
import json,sys
r=json.load(sys.stdin)[0]
assert r['state']=='succeeded', r
print('markets', $n, r['finished_at']-r['started_at'], $after-$before, $base_ms)" >> "$results"
  done
  stop_server
  rm -rf "$work"
done

for s in ${services[@]+"${services[@]}"}; do
  work=$root/s$s
  start_server "$work" 25 "$s"
  for i in $(seq "$runs"); do
    rels=()
    for k in $(seq "$s"); do rels+=("$(release "$work" "app$k" "$i")"); done
    sleep 0.5
    before=$(cpu_ms)
    for rel in "${rels[@]}"; do api -X POST -d "{\"release_id\": $rel}" "$base/rollouts" > /dev/null; done
    out=$(wait_done "$s")
    after=$(cpu_ms)
    base_ms=$(loop $((25 * s)))
    echo "$out" | python3 -c "
import json,sys
rs=json.load(sys.stdin)
assert all(r['state']=='succeeded' for r in rs), [r['reason'] for r in rs]
span=max(r['finished_at'] for r in rs)-min(r['started_at'] for r in rs)
slowest=max(r['finished_at']-r['started_at'] for r in rs)
print('services', $s, span, $after-$before, $base_ms, slowest)" >> "$results"
  done
  stop_server
  rm -rf "$work"
done

python3 - "$results" "$runs" <<'PY'
import statistics, sys
from collections import defaultdict
rows = defaultdict(list)
for line in open(sys.argv[1]):
    kind, size, *figures = line.split()
    rows[(kind, int(size))].append([int(f) for f in figures])
med = lambda xs: statistics.median(xs)
runs = sys.argv[2]
if any(k == "markets" for k, _ in rows):
    print(f"one service, N markets in 5 waves, instant deploy, no gate (median of {runs})")
    print("| markets | rollout | per market | server CPU per market | N × sh -c true | × the loop |")
    print("|---|---|---|---|---|---|")
    for (kind, n), rs in sorted(rows.items()):
        if kind != "markets":
            continue
        total, cpu, loop = med([r[0] for r in rs]), med([r[1] for r in rs]), med([r[2] for r in rs])
        ratios = [r[0] / max(r[2], 1) for r in rs]
        print(f"| {n} | {total:,.0f} ms | {total / n:.2f} ms | {cpu / n:.2f} ms | {loop:,.0f} ms "
              f"| {med(ratios):.1f}× ({min(ratios):.1f}–{max(ratios):.1f}) |")
single = [r[0] for (k, s), rs in rows.items() if k == "services" and s == 1 for r in rs]
if any(k == "services" for k, _ in rows):
    print(f"\nS services × 25 markets, rolled out at once (median of {runs})")
    print("| services | span (first start → last end) | slowest rollout | per deployment | server CPU per deployment | 25·S × sh -c true | × the loop | × one service alone |")
    print("|---|---|---|---|---|---|---|---|")
    for (kind, s), rs in sorted(rows.items()):
        if kind != "services":
            continue
        span, cpu, loop, slowest = (med([r[i] for r in rs]) for i in range(4))
        alone = f"{span / med(single):.1f}×" if single else "—"
        print(f"| {s} | {span:,.0f} ms | {slowest:,.0f} ms | {span / (25 * s):.2f} ms | {cpu / (25 * s):.2f} ms "
              f"| {loop:,.0f} ms | {span / max(loop, 1):.1f}× | {alone} |")
PY
