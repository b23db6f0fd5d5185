#!/usr/bin/env bash
# Idle cost of `tandem serve`: after rolling a `command`-driver service out to its markets
# (instant deploy, `true`), the server does nothing but watch them. Measured over a window:
# the server's resident set (VmRSS, and VmHWM, its peak) and its CPU (utime + stime from
# /proc), and how much its store grew: its files (SQLite's file and log, as `tandem_store_size_bytes`) and its
# pages (what it holds, read through the log). Every market answers its
# probe at one fake HTTP server (a path per market, one port: Python, outside the figures).
#
# Usage: bench/idle.sh [MARKETS] [SERVICES] [INTERVAL] [SECONDS]
#   defaults: 25 markets, 1 service, 15s (the default monitor.interval), 60 s window.
#   1,000 probed markets: bench/idle.sh 500 2 15s 60   (a market id is two letters: 676 at most)
# BIN: the tandem binary (default target/release/tandem). BASELINE: another tandem binary
# (such as the previous commit's), measured the same way in the same run, after BIN.
# ENV: extra environment for both servers, such as ENV='MALLOC_ARENA_MAX=2'.
# PERF_STAT=1 counts the window with `perf stat` too (as root): the server's context switches a
# second, and SQLite's steps a second (a uprobe on `sqlite3_step` in the binary: one per write
# statement, one per row a read returns, plus one).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
markets=${1:-25}
services=${2:-1}
interval=${3:-15s}
window=${4:-60}
bin=${BIN:-$PWD/target/release/tandem}
[ -x "$bin" ] || { echo "build first: cargo build --release (or give BIN)" >&2; exit 1; }
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

# The fake markets: 200 on every GET, keep-alive, one asyncio loop.
fake_port=$(free_port)
python3 - "$fake_port" <<'PY' &
import asyncio, sys
async def serve(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok")
            await writer.drain()
    except Exception:
        writer.close()
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]), backlog=1024)
    async with server:
        await server.serve_forever()
asyncio.run(main())
PY
pids+=($!)

# One server: its platform, its services' repositories, its data; rolls every service out and
# measures the window. Prints one line of figures.
measure() {
  local label=$1 exe=$2 dir=$work/$1
  mkdir -p "$dir"
  local codes
  codes=$(python3 -c "
import itertools, string
ids = [a + b for a, b in itertools.product(string.ascii_lowercase, repeat=2)]
print(' '.join(ids[:$markets]))")
  {
    echo "markets:"
    for c in $codes; do echo "  - { id: $c, name: M-$c, region: eu, currency: EUR, locale: en-GB, timezone: Europe/Paris }"; done
    echo "waves:"
    echo "  - { name: all, markets: [$(echo "$codes" | tr ' ' ',')] }"
    echo "services:"
    for s in $(seq "$services"); do
      instant_repo "$dir/app$s" "app$s" "  url: \"http://127.0.0.1:$fake_port/app$s/{market}\"
monitor: { interval: $interval, timeout: 1s }"
      echo "  - { name: app$s, repo: $dir/app$s }"
    done
  } > "$dir/platform.yml"
  local port
  port=$(free_port)
  # shellcheck disable=SC2086
  env ${ENV:-} "$exe" serve --data-dir "$dir/data" --platform "$dir/platform.yml" --listen "127.0.0.1:$port" 2> "$dir/serve.log" &
  local pid=$!
  pids+=("$pid")
  local token base
  token=$(first_token "$dir/data")
  base="http://127.0.0.1:$port/api/v1"
  api() { curl -sf -H "Authorization: Bearer $token" -H "content-type: application/json" "$@"; }
  json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
  for s in $(seq "$services"); do
    local run release id
    run=$(api -X POST -d '{}' "$base/services/app$s/runs" | json "['id']")
    until api "$base/runs/$run" | grep -q '"release":"v'; do sleep 0.2; done
    release=$(api "$base/releases?service=app$s" | json "[0]['id']")
    id=$(api -X POST -d "{\"release_id\": $release}" "$base/rollouts" | json "['id']")
    until api "$base/rollouts/$id" | grep -q '"state":"succeeded"'; do sleep 0.2; done
  done
  # Let the first probes of every market land and the server settle, then measure.
  sleep 20
  local hz ticks0 ticks1 size0 size1 rss hwm threads agent_rss
  hz=$(getconf CLK_TCK)
  cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
  # What `tandem_store_size_bytes` reports, read from the files (the baseline may not report it).
  size() { cat "$dir/data/tandem.db" "$dir/data/tandem.db-wal" 2>/dev/null | wc -c; }
  # What the database holds, through its log: its pages. The log's file grows until a checkpoint
  # and is then written over from its start, so the files' growth over a minute is noisy.
  pages() { python3 -c "
import sqlite3
db = sqlite3.connect('file:$dir/data/tandem.db?mode=ro', uri=True)
print(db.execute('PRAGMA page_count').fetchone()[0] * db.execute('PRAGMA page_size').fetchone()[0])"; }
  local event='' counted=''
  if [ -n "${PERF_STAT:-}" ]; then
    event=$(perf probe -q -x "$exe" -a "step_$label=sqlite3_step" 2>&1 >/dev/null; perf probe -l 2>/dev/null | grep -o "probe_[a-z0-9_]*:step_$label" | head -1)
    [ -n "$event" ] || { echo "perf probe: cannot probe sqlite3_step in $exe" >&2; exit 1; }
  fi
  local since
  since=$(date +%s%3N)
  size0=$(size); pages0=$(pages); ticks0=$(cpu)
  if [ -n "$event" ]; then
    perf stat -x, -e "context-switches,$event" -p "$pid" -o "$dir/perf.csv" -- sleep "$window"
    perf probe -q -d "$event"
    counted=$(awk -F, -v w="$window" '/context-switches/{cs=$1} /step_/{st=$1} END{printf "  %.0f switches/s  %.0f SQLite steps/s", cs/w, st/w}' "$dir/perf.csv")
  else
    sleep "$window"
  fi
  ticks1=$(cpu); size1=$(size); pages1=$(pages)
  rss=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status")
  hwm=$(awk '/^VmHWM/{print $2}' "/proc/$pid/status")
  threads=$(awk '/^Threads/{print $2}' "/proc/$pid/status")
  agent_rss=$(pgrep -P "$pid" | head -1 | xargs -r -I{} awk '/^VmRSS/{print $2}' /proc/{}/status)
  # Every market probed within the window (its health row's last probe), out of those watched.
  live=$(python3 -c "
import sqlite3, sys
db = sqlite3.connect('file:$dir/data/tandem.db?mode=ro', uri=True)
fresh, = db.execute(\"SELECT COUNT(*) FROM market_health WHERE state = 'up' AND probed_at >= $since\").fetchone()
total, = db.execute('SELECT COUNT(*) FROM market_health').fetchone()
print(f'{fresh}/{total}')")
  python3 - "$label" "$rss" "$hwm" "$threads" "$((ticks1 - ticks0))" "$hz" "$window" "$size0" "$size1" "$live" "${agent_rss:-0}" "$counted" "$pages0" "$pages1" <<'PY'
import sys
label, rss, hwm, threads, ticks, hz, window, s0, s1, live, agent, counted, p0, p1 = sys.argv[1:]
cpu = int(ticks) / int(hz) / int(window) * 100
grow = (int(s1) - int(s0)) / 1e6 / (int(window) / 60)
held = (int(p1) - int(p0)) / 1e6 / (int(window) / 60)
print(f"{label:<9} {live:>9} up and probed in the window  RSS {int(rss)/1024:6.1f} MiB (peak {int(hwm)/1024:6.1f})  "
      f"CPU {cpu:5.2f} % of a core  store {int(s1)/1e6:6.2f} MB (files +{grow:.3f} MB/min, pages +{held:.3f})  "
      f"{threads} threads  agent RSS {int(agent)/1024:.1f} MiB{counted}")
PY
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "tandem serve idle: $markets markets x $services service(s), monitor.interval $interval, ${window}s window${ENV:+, $ENV}"
measure this "$bin"
if [ -n "${BASELINE:-}" ]; then measure baseline "$BASELINE"; fi
