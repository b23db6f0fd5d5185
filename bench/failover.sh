#!/usr/bin/env bash
# Failover: how long the work that must happen once (runs, rollouts, the markets' watch) is
# without an owner when the server doing it is killed (SIGKILL). Two ways, alternating rounds,
# on one PostgreSQL database each round:
#   baseline: one server, started again on its data folder as soon as it died (what a
#             supervisor such as systemd does) until it is the conductor again;
#   replicas: two servers; the one that is not the conductor takes over on its own.
# The figure is from the kill to `GET /api/v1/servers` answering `this_is_conductor: true`.
# Usage: bench/failover.sh [rounds]   (needs a release build and PostgreSQL on 127.0.0.1:5432)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
rounds=${1:-5}
bin=$PWD/target/release/tandem
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
work=$(mktemp -d)
pids=()
db="tandem_bench_failover_$$"
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
cat > "$work/platform.yml" <<YML
markets:
  - { id: fr, name: France, region: west, currency: EUR, locale: fr-FR, timezone: Europe/Paris }
YML
export TANDEM_SECRETS_KEY=$(printf '5a%.0s' $(seq 32))
export TANDEM_DATABASE="postgres://postgres@127.0.0.1:5432/$db"
now_ms() { date +%s%3N; }
# serve NAME PORT: a server with its data in $work/NAME, in the background; its pid in $started.
serve() {
    RUST_LOG=warn "$bin" serve --platform "$work/platform.yml" --data-dir "$work/$1" --listen "127.0.0.1:$2" \
        > /dev/null 2>> "$work/$1.log" &
    started=$!
    pids+=("$started")
}
conductor() { # PORT: is the server on PORT the conductor?
    curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$1/api/v1/servers" 2>/dev/null \
        | grep -q '"this_is_conductor":true'
}
fresh_database() {
    psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
    rm -rf "$work/a" "$work/b" "$work"/*.log
}
# wait_for WHAT COMMAND...: polls COMMAND every 20 ms; gives up after 60 s, showing the logs.
wait_for() {
    local what=$1; shift
    local deadline=$(( $(now_ms) + 60000 ))
    until "$@"; do
        if [ "$(now_ms)" -gt "$deadline" ]; then
            echo "gave up waiting for $what; the servers said:" >&2
            tail -n 20 "$work"/*.log >&2
            exit 1
        fi
        sleep 0.02
    done
}
first_server() { # PORT: starts server a, waits for its token and for it to lead
    serve a "$1"; a_pid=$started
    wait_for "the first admin token" test -s "$work/a/first-admin-token"
    token=$(cat "$work/a/first-admin-token")
    wait_for "the first server to lead" conductor "$1"
}
base=(); repl=()
for round in $(seq 1 "$rounds"); do
    fresh_database
    pa=$(free_port); first_server "$pa"
    kill -9 "$a_pid"; t0=$(now_ms)
    wait "$a_pid" 2>/dev/null || true # its port is free once it is gone
    serve a "$pa"
    wait_for "the restarted server to lead" conductor "$pa"
    base+=($(( $(now_ms) - t0 ))); kill -9 "$started"

    fresh_database
    pa=$(free_port); pb=$(free_port); first_server "$pa"
    serve b "$pb"
    wait_for "the second server" curl -sf -o /dev/null "http://127.0.0.1:$pb/healthz"
    sleep 1 # b has campaigned at least once as a follower
    kill -9 "$a_pid"; t0=$(now_ms)
    wait_for "the second server to take over" conductor "$pb"
    repl+=($(( $(now_ms) - t0 ))); kill -9 "$started"
    echo "round $round: restart ${base[-1]} ms, replica takeover ${repl[-1]} ms"
done
python3 - "${base[*]}" "${repl[*]}" <<'PY'
import statistics, sys
b = [int(x) for x in sys.argv[1].split()]
r = [int(x) for x in sys.argv[2].split()]
print(f"one server, restarted at once on its folder: median {statistics.median(b):.0f} ms (min {min(b)}, max {max(b)})")
print(f"two servers, the other takes over:           median {statistics.median(r):.0f} ms (min {min(r)}, max {max(r)})")
print(f"ratio replicas/restart: {statistics.median(r)/statistics.median(b):.2f}")
PY
