#!/usr/bin/env bash
# OFREP single-flag evaluation under load on loopback: `wrk -t2 -c32` against `tandem serve`
# with the demo's flags, against a baseline in the same run: wrk against the server's
# `/healthz` (the HTTP stack alone: no auth, no evaluation).
# Usage: bench/ofrep.sh [seconds] [rounds]   (needs a release build and wrk: apt-get install wrk)
# BIN=path/to/tandem picks the build (default target/release/tandem). BASELINE=path/to/tandem
# measures a second build on the same data in the same run, round by round (BIN, then
# BASELINE), and prints each round's ratio of their OFREP rates.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
secs=${1:-10}
rounds=${2:-1}
bin=${BIN:-$PWD/target/release/tandem}
[ -x "$bin" ] || { echo "build first: cargo build --release (or give BIN)" >&2; exit 1; }
[ -z "${BASELINE:-}" ] || [ -x "$BASELINE" ] || { echo "BASELINE=$BASELINE is not an executable" >&2; exit 1; }
command -v wrk >/dev/null || { echo "install wrk first: apt-get install wrk" >&2; exit 1; }
work=$(mktemp -d)
serve_pid=
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; rm -rf "$work"' EXIT

"$bin" demo --json --exit-when-done --data-dir "$work/demo" > "$work/demo.json" 2>/dev/null
token=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['token'])" "$work/demo.json")
cat > "$work/eval.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"context": {"targetingKey": "shopper-42", "market": "fr"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA

# measure LABEL BINARY ROUND: serves the demo's data with BINARY, loads /healthz then the
# evaluation; writes LABEL-ROUND-base.txt and LABEL-ROUND-eval.txt.
measure() {
  local label=$1 exe=$2 round=$3 port
  port=$(free_port)
  RUST_LOG=warn "$exe" serve --data-dir "$work/demo" --listen "127.0.0.1:$port" 2>/dev/null &
  serve_pid=$!
  wait_healthy "$port"
  curl -sf -X POST -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    -d '{"context": {"targetingKey": "shopper-42", "market": "fr"}}' \
    "http://127.0.0.1:$port/ofrep/v1/evaluate/flags/new-checkout" > "$work/one.json"
  wrk -t2 -c32 -d"${secs}s" --latency "http://127.0.0.1:$port/healthz" > "$work/$label-$round-base.txt"
  wrk -t2 -c32 -d"${secs}s" --latency -s "$work/eval.lua" \
    "http://127.0.0.1:$port/ofrep/v1/evaluate/flags/new-checkout" > "$work/$label-$round-eval.txt"
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=
}

for round in $(seq "$rounds"); do
  measure this "$bin" "$round"
  [ -n "${BASELINE:-}" ] && measure baseline "$BASELINE" "$round"
done
python3 - "$work" "$rounds" "${BASELINE:+yes}" <<'PY'
import re, sys
work, rounds, baseline = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "yes"
def read(name):
    t = open(f"{work}/{name}").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", t)
    v = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    return rps, v, int(errors.group(1)) if errors else 0
print("one answer:", open(f"{work}/one.json").read())
for r in range(1, rounds + 1):
    for label in ["this"] + (["baseline"] if baseline else []):
        b, e = read(f"{label}-{r}-base.txt"), read(f"{label}-{r}-eval.txt")
        print(f"round {r} {label:<8} GET /healthz (baseline)             {b[0]:>9.0f} req/s  p99 {b[1]:.2f} ms")
        print(f"round {r} {label:<8} POST /ofrep/v1/evaluate/flags/KEY   {e[0]:>9.0f} req/s  p99 {e[1]:.2f} ms  (ratio {e[0]/b[0]:.2f} of /healthz; non-2xx: {e[2]})")
    if baseline:
        t, b = read(f"this-{r}-eval.txt"), read(f"baseline-{r}-eval.txt")
        print(f"round {r} OFREP rate, this / baseline: {t[0]/b[0]:.2f}; p99 {t[1]:.2f} / {b[1]:.2f} ms")
PY
