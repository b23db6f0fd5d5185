#!/usr/bin/env bash
# OFREP single-flag evaluation under load on loopback: `wrk -t2 -c32` against `tandem serve`
# with the demo's flags, against a baseline in the same run: wrk against the server's
# `/healthz` (the HTTP stack alone: no auth, no evaluation).
# Usage: bench/ofrep.sh [seconds]   (needs a release build and wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
bin=$PWD/target/release/tandem
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
command -v wrk >/dev/null || { echo "install wrk first: apt-get install wrk" >&2; exit 1; }
work=$(mktemp -d)
serve_pid=
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; rm -rf "$work"' EXIT

"$bin" demo --json --exit-when-done --data-dir "$work/demo" > "$work/demo.json" 2>/dev/null
token=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['token'])" "$work/demo.json")
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
RUST_LOG=warn "$bin" serve --data-dir "$work/demo" --listen "127.0.0.1:$port" 2>/dev/null &
serve_pid=$!
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.05; done
cat > "$work/eval.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"context": {"targetingKey": "shopper-42", "market": "fr"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
curl -sf -X POST -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
  -d '{"context": {"targetingKey": "shopper-42", "market": "fr"}}' \
  "http://127.0.0.1:$port/ofrep/v1/evaluate/flags/new-checkout" > "$work/one.json"
wrk -t2 -c32 -d"${secs}s" --latency "http://127.0.0.1:$port/healthz" > "$work/base.txt"
wrk -t2 -c32 -d"${secs}s" --latency -s "$work/eval.lua" "http://127.0.0.1:$port/ofrep/v1/evaluate/flags/new-checkout" > "$work/eval.txt"
python3 - "$work" <<'PY'
import re, sys
work = sys.argv[1]
def read(name):
    t = open(f"{work}/{name}").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", t)
    v = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    return rps, v, int(errors.group(1)) if errors else 0
print("one answer:", open(f"{work}/one.json").read())
b, e = read("base.txt"), read("eval.txt")
print(f"GET /healthz (baseline)             {b[0]:>9.0f} req/s  p99 {b[1]:.2f} ms")
print(f"POST /ofrep/v1/evaluate/flags/KEY   {e[0]:>9.0f} req/s  p99 {e[1]:.2f} ms  (ratio {e[0]/b[0]:.2f} of baseline; non-2xx: {e[2]})")
PY
