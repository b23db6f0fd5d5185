#!/usr/bin/env bash
# Page weight and time at scale (issue 20, item 3): a platform of N markets in 5 waves and S
# services, served by `tandem serve`; each page fetched `rounds` times one after the other with
# a session cookie, its size and its p50/p99 time against `/healthz` in the same run.
# No market runs anything: the pages show every market and service as they are before a first
# rollout (a rollout of 5,000 markets is bench/scale.sh's business).
#
# Usage: bench/pages.sh [rounds] [markets] [services]    (default: 50 5000 10)
# BIN=path/to/tandem picks another build (default target/release/tandem: cargo build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
rounds=${1:-50}
n=${2:-5000}
s=${3:-10}
bin=${BIN:-$PWD/target/release/tandem}
[ -x "$bin" ] || { echo "build first: cargo build --release (or set BIN)" >&2; exit 1; }
work=$(mktemp -d)
serve_pid=
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; rm -rf "$work"' EXIT

python3 - "$n" "$s" "$work" > "$work/platform.yml" <<'PY'
import sys
n, s, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ids = [f"m{i:05d}" for i in range(n)]
print("markets:")
for i, m in enumerate(ids):
    print(f"  - {{ id: {m}, name: Store {m}, region: r{i % 20}, currency: EUR, locale: en-GB, timezone: Europe/Paris }}")
# Waves of 1, 1 %, 9 %, 30 % and the rest, as a pilot goes first.
cuts = [1, max(2, n // 100), max(3, n // 10), max(4, 4 * n // 10), n]
print("waves:")
start = 0
for w, end in enumerate(cuts):
    if end > start:
        print(f"  - {{ name: w{w}, markets: [{', '.join(ids[start:end])}] }}")
    start = max(start, end)
print("services:")
for j in range(s):
    print(f"  - {{ name: svc{j}, repo: {work}/repo }}")
PY
mkdir -p "$work/repo" && (cd "$work/repo" && git init -q -b main && echo "service: x" > tandem.yml && git add . && git -c user.name=b -c user.email=b@b commit -qm x)

port=$(free_port)
"$bin" serve --data-dir "$work/data" --platform "$work/platform.yml" --listen "127.0.0.1:$port" 2> "$work/serve.log" &
serve_pid=$!
# The first admin token: in the data folder's first-admin-token file (docs/operations.md).
until [ -s "$work/data/first-admin-token" ]; do sleep 0.1; done
token=$(grep -o "tdm_[a-z0-9]*" "$work/data/first-admin-token" | head -1)
base="http://127.0.0.1:$port"
until curl -sf "$base/healthz" >/dev/null; do sleep 0.1; done
# A session, as a browser has after signing in with the token.
cookie=$(curl -s -D- -o /dev/null -H "Origin: $base" --data-urlencode "token=$token" "$base/login" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -1)
[ -n "$cookie" ] || { echo "cannot sign in" >&2; exit 1; }

# The server's CPU time (user + system), in clock ticks: a figure the load of other processes
# on the machine changes far less than wall time.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$serve_pid/stat"; }
hz=$(getconf CLK_TCK)
printf "%-28s %10s %9s %9s %12s\n" page bytes p50_ms p99_ms cpu_ms/req
for page in /healthz / /markets "/markets?sort=worst" "/markets?health=down" /delivery /api/v1/markets; do
  before=$(cpu_ticks)
  for i in $(seq "$rounds"); do
    curl -s -o /dev/null -H "Cookie: $cookie" -H "Authorization: Bearer $token" \
      -w '%{time_total} %{size_download} %{http_code}\n' "$base$page"
  done > "$work/times"
  cpu=$(( $(cpu_ticks) - before ))
  python3 -c "
import sys
rows = [l.split() for l in open('$work/times') if l.strip()]
codes = {r[2] for r in rows}
assert codes == {'200'}, ('$page', codes)
t = sorted(float(r[0]) * 1000 for r in rows)
pick = lambda p: t[min(len(t) - 1, max(0, int(len(t) * p + 0.999) - 1))]
cpu = $cpu * 1000 / $hz / len(rows)
print(f'{\"$page\":<28} {int(rows[-1][1]):>10} {pick(0.5):>9.1f} {pick(0.99):>9.1f} {cpu:>12.2f}')
"
done
echo "($n markets in 5 waves, $s services, $rounds rounds each, one after the other)"
