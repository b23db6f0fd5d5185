#!/usr/bin/env bash
# Two servers on one PostgreSQL database, measured on the same data: OFREP single-flag
# evaluation and the markets list, answered by the follower against the same answered by the
# conductor (the baseline), alternating, `wrk -t2 -c32`. Both servers and wrk share this
# machine's cores, so this says what answering on a follower costs, not how two hosts scale.
# Usage: bench/replicas.sh [seconds] [rounds]   (release build, wrk, PostgreSQL on 127.0.0.1:5432)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
secs=${1:-5}
rounds=${2:-3}
bin=$PWD/target/release/tandem
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
command -v wrk >/dev/null || { echo "install wrk first: apt-get install wrk" >&2; exit 1; }
work=$(mktemp -d)
db="tandem_bench_replicas_$$"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
psql -h 127.0.0.1 -U postgres -d test -qc "CREATE DATABASE $db" >/dev/null
url="postgres://postgres@127.0.0.1:5432/$db"
# The demo's story fills the database (25 markets, releases, flags); its token is the admin's.
"$bin" demo --json --exit-when-done --database "$url" --data-dir "$work/demo" > "$work/demo.json" 2>/dev/null
token=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['token'])" "$work/demo.json")
pa=$(free_port); pb=$(free_port)
for side in a:$pa b:$pb; do
    name=${side%%:*}; port=${side##*:}
    TANDEM_DATABASE=$url RUST_LOG=warn "$bin" serve --data-dir "$work/$name" --listen "127.0.0.1:$port" \
        --secrets-key-file "$work/demo/secrets.key" > /dev/null 2>> "$work/$name.log" &
    pids+=($!)
    until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.05; done
    sleep 1
done
role() { curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$1/api/v1/servers" | grep -q '"this_is_conductor":true' && echo conductor || echo follower; }
[ "$(role "$pa")" = conductor ] && { conductor=$pa; follower=$pb; } || { conductor=$pb; follower=$pa; }
cat > "$work/eval.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"context": {"targetingKey": "shopper-42", "market": "fr"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
cat > "$work/get.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
LUA
run() { # NAME PORT PATH SCRIPT
    wrk -t2 -c32 -d"${secs}s" --latency -s "$work/$4" "http://127.0.0.1:$2$3" >> "$work/$1.txt"
}
for _ in $(seq 1 "$rounds"); do
    run ofrep-conductor "$conductor" /ofrep/v1/evaluate/flags/new-checkout eval.lua
    run ofrep-follower "$follower" /ofrep/v1/evaluate/flags/new-checkout eval.lua
    run markets-conductor "$conductor" /api/v1/markets get.lua
    run markets-follower "$follower" /api/v1/markets get.lua
done
python3 - "$work" <<'PY'
import re, statistics, sys
work = sys.argv[1]
def read(name):
    t = open(f"{work}/{name}.txt").read()
    rps = [float(x) for x in re.findall(r"Requests/sec:\s+([\d.]+)", t)]
    p99 = [float(v) * {"us": 0.001, "ms": 1, "s": 1000}[u] for v, u in re.findall(r"99%\s+([\d.]+)(us|ms|s)", t)]
    bad = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", t))
    return statistics.median(rps), statistics.median(p99), bad
for what in ["ofrep", "markets"]:
    c, f = read(f"{what}-conductor"), read(f"{what}-follower")
    print(f"{what:8} conductor (baseline) {c[0]:>8.0f} req/s p99 {c[1]:.2f} ms | follower {f[0]:>8.0f} req/s p99 {f[1]:.2f} ms | ratio {f[0]/c[0]:.2f} | non-2xx {c[2]}+{f[2]}")
PY
