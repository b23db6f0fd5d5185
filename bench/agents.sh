#!/usr/bin/env bash
# Jobs through agents, each figure against a baseline measured in the same run:
#   - per-job overhead: a chain of 50 one-step jobs run by a server and one agent (the job
#     goes out over HTTP, its steps, log and end come back), against the same chain run by
#     `tandem run` (the in-process runner, no server); the difference divided by 50;
#   - spread: 50 runs of one job (`sleep 0.2`) queued at once, taken by 1, 2 and 4 agents of
#     capacity 1; the time until the last ends, against the 1-agent time;
#   - the idle agent's resident memory, against an idle `sleep` (the floor of any process).
# Usage: bench/agents.sh [rounds]   (needs a release build: cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
bin=${TANDEM:-$PWD/target/release/tandem}
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

repo() { # name, then the tandem.yml on stdin
  mkdir -p "$work/$1" && cat > "$work/$1/tandem.yml"
  (cd "$work/$1" && git init -q -b main && git add . && git -c user.name=b -c user.email=b@b commit -qm bench)
}
{ echo "service: chain"; echo "pipeline:"; echo "  jobs:"
  for i in $(seq 50); do echo "    j$i:"; [ "$i" -gt 1 ] && echo "      needs: [j$((i-1))]"; echo "      steps: [{ run: 'true' }]"; done; } | repo chain
{ echo "service: nap"; echo "pipeline:"; echo "  jobs:"; echo "    nap:"; echo "      steps: [{ run: sleep 0.2 }]"; } | repo nap
cat > "$work/platform.yml" <<EOF
markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
services:
  - { name: chain, repo: $work/chain }
  - { name: nap, repo: $work/nap }
EOF
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$bin" serve --listen "127.0.0.1:$port" --platform "$work/platform.yml" --data-dir "$work/data" --no-local-agent \
  >/dev/null 2>"$work/serve.log" &
pids+=($!)
for _ in $(seq 100); do [ -f "$work/data/first-admin-token" ] && break; sleep 0.1; done
token=$(cat "$work/data/first-admin-token")

python3 - "$base" "$token" "$work" "$rounds" "$bin" <<'PY' > "$work/report.txt"
import json, os, subprocess, sys, time, urllib.request
base, token, work, rounds, binary = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)
def trigger(service):
    return call("POST", f"/api/v1/services/{service}/runs", {})["id"]
def wait_end(ids):
    while True:
        states = [call("GET", f"/api/v1/runs/{i}")["state"] for i in ids]
        if all(s not in ("queued", "running") for s in states):
            assert all(s == "success" for s in states), states
            return
        time.sleep(0.02)
def agent(name, capacity):
    tok = json.loads(subprocess.run([binary, "agents", "register", name, "--json", "--server", base, "--token", token],
                                    capture_output=True, check=True).stdout)["token"]
    p = subprocess.Popen([binary, "agent", "--server", base, "--capacity", str(capacity), "--work-dir", f"{work}/{name}"],
                         env={**os.environ, "TANDEM_AGENT_TOKEN": tok}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p
def connected(n):
    while sum(1 for a in call("GET", "/api/v1/agents") if a["connected"] and a["revoked_at"] is None) < n:
        time.sleep(0.05)
def median(xs):
    xs = sorted(xs); return xs[len(xs) // 2]

agents = [agent("a1", 1)]
connected(1)
# Per-job overhead: the chain through one agent, against `tandem run` of the same chain.
server_ms, local_ms = [], []
for _ in range(rounds):
    t = time.time(); wait_end([trigger("chain")]); server_ms.append((time.time() - t) * 1000)
    t = time.time(); subprocess.run([binary, "run"], cwd=f"{work}/chain", check=True, capture_output=True)
    local_ms.append((time.time() - t) * 1000)
s, l = median(server_ms), median(local_ms)
print(f"chain of 50 jobs, server + 1 agent     {s:.0f} ms")
print(f"chain of 50 jobs, tandem run           {l:.0f} ms  (in process)")
print(f"per-job overhead of an agent           {(s - l) / 50:.1f} ms  ({s / l:.2f}x the in-process run)")

# Spread: 50 queued runs over 1, 2 and 4 agents of capacity 1.
spread = {}
for n in (1, 2, 4):
    while len(agents) < n:
        agents.append(agent(f"a{len(agents) + 1}", 1))
    connected(n)
    times = []
    for _ in range(rounds):
        t = time.time(); wait_end([trigger("nap") for _ in range(50)]); times.append((time.time() - t) * 1000)
    spread[n] = median(times)
    print(f"50 runs of sleep 0.2 over {n} agent(s)    {spread[n]:.0f} ms  ({spread[1] / spread[n]:.2f}x faster than 1 agent; floor {10000 / n:.0f} ms)")

# Idle memory: an agent waiting for work, against an idle sleep.
time.sleep(2)
rss = lambda pid: int(open(f"/proc/{pid}/status").read().split("VmRSS:")[1].split()[0])
idle = subprocess.Popen(["sleep", "30"]); time.sleep(0.2)
print(f"idle agent RSS                          {rss(agents[0].pid) / 1024:.1f} MiB  (an idle sleep: {rss(idle.pid) / 1024:.1f} MiB)")
idle.kill()
for p in agents:
    p.terminate()
PY
echo "medians of $rounds rounds"
cat "$work/report.txt"
