#!/usr/bin/env bash
# Time from an approved config change to every watching service having it, 25 markets: a
# `command` driver whose deploy is `true` (instant), 25 services watching their market's config
# over SSE (`/api/v1/services/app/config/watch`), a developer's change to a default value that
# every market resolves, approved by an operator; the clock runs from the approval request to
# the last watcher's event. Baseline, same run: a release rollout to the same 25 markets.
# Usage: bench/config.sh [rounds]   (needs a release build: cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
APP_CONFIG="{ defaults: { threshold: 0 } }"
# shellcheck source=bench/instant-app.sh
source bench/instant-app.sh

python3 - "http://127.0.0.1:$port" "$token" "$rounds" "${codes[@]}" <<'PY'
import json, statistics, sys, threading, time, urllib.request

base, admin, rounds, markets = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]

def call(method, path, token, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req) as r:
        return json.load(r)

def wait(pred, what):
    deadline = time.time() + 120
    while not pred():
        if time.time() > deadline:
            sys.exit(f"timed out waiting for {what}")
        time.sleep(0.01)

dev = call("POST", "/api/v1/tokens", admin, {"name": "dev", "role": "developer"})["secret"]

# A release everywhere first (the baseline), so that each config version is deployed.
def release_rollout():
    run = call("POST", "/api/v1/services/app/runs", admin, {})["id"]
    wait(lambda: call("GET", f"/api/v1/runs/{run}", admin).get("release"), "the release")
    release = call("GET", "/api/v1/releases?service=app", admin)[0]["id"]
    r = call("POST", "/api/v1/rollouts", admin, {"release_id": release})["id"]
    wait(lambda: call("GET", f"/api/v1/rollouts/{r}", admin)["state"] == "succeeded", "the release rollout")
    d = call("GET", f"/api/v1/rollouts/{r}", admin)
    return d["finished_at"] - d["started_at"]
baseline = release_rollout()

# 25 services, each watching its market's config.
heard = {m: {} for m in markets}
def watch(market):
    req = urllib.request.Request(f"{base}/api/v1/services/app/config/watch?market={market}")
    req.add_header("Authorization", f"Bearer {admin}")
    with urllib.request.urlopen(req) as r:
        for line in r:
            line = line.decode().strip()
            if line.startswith("id:"):
                heard[market][int(line[3:])] = time.perf_counter()
for m in markets:
    threading.Thread(target=watch, args=(m,), daemon=True).start()
wait(lambda: all(heard[m] for m in markets), "the watchers")

times = []
for i in range(1, rounds + 1):
    versions = call("GET", "/api/v1/services/app/config/versions", admin)
    layers = json.loads(versions[0]["layers"])
    layers["defaults"]["threshold"] = i
    change = call("POST", "/api/v1/services/app/changes", dev, {"kind": "config", "title": f"threshold {i}", "layers": layers})
    start = time.perf_counter()
    approved = call("POST", f"/api/v1/changes/{change['id']}/approve", admin, {})
    version = approved["version"]
    wait(lambda: all(version in heard[m] for m in markets), f"every watcher to hear v{version}")
    last = max(heard[m][version] for m in markets)
    times.append((last - start) * 1000)
    wait(lambda: call("GET", f"/api/v1/changes/{change['id']}", admin)["change"]["state"] == "done", "the change to be done")

med = statistics.median(times)
print(f"approved change -> all 25 watchers (median of {rounds})  {med:.0f} ms  ({med/25:.1f} ms per market; runs: {', '.join(f'{t:.0f}' for t in times)})")
print(f"  baseline: a release rollout to the same 25 markets        {baseline} ms  (ratio {med/max(baseline,1):.2f}x)")
PY
