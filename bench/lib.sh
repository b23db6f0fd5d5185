# Sourced by the bench scripts: what they share to stand a platform and a server up.

# free_port: a port on 127.0.0.1 that was free a moment ago.
free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }

# instant_repo DIR SERVICE [EXTRA]: a git repository whose pipeline makes a release that the
# `command` driver deploys with `true` (instant, no gate). EXTRA (YAML lines) ends its tandem.yml:
# lines indented by two spaces go on the deploy section, others are top-level keys.
instant_repo() {
  mkdir -p "$1"
  cat > "$1/tandem.yml" <<YML
service: $2
pipeline:
  jobs:
    build:
      steps: [{ run: echo ok > out.txt }]
      artifacts: [out.txt]
deploy:
  driver: command
  run: "true"
${3:-}
YML
  (cd "$1" && git init -q -b main && git add . && git -c user.name=b -c user.email=b@b commit -qm app)
}

# wave_markets N: the markets and waves of a platform of N markets (m0001…) in 5 waves: one
# market, then 1/8, 1/8 and 1/4 of the others, then the rest. The caller adds `services:`.
wave_markets() {
  python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
ids = [f"m{i:04d}" for i in range(1, n + 1)]
rest = n - 1
sizes = [1, rest // 8, rest // 8, rest // 4]
sizes.append(n - sum(sizes))
print("markets:")
for m in ids:
    print(f"  - {{ id: {m}, name: M-{m}, region: eu, currency: EUR, locale: en-GB, timezone: Europe/Paris }}")
print("waves:")
at = 0
for w, size in enumerate(sizes):
    if size > 0:
        print(f"  - {{ name: w{w + 1}, markets: [{', '.join(ids[at:at + size])}] }}")
    at += size
PY
}

# first_token DATA [LOG]: waits for a new server's first admin token and prints it: in its data
# folder (this version, docs/operations.md) or, from servers before that, in its log.
first_token() {
  until grep -qs "tdm_" "$1/first-admin-token" "${2:-/dev/null}"; do sleep 0.05; done
  grep -ohs "tdm_[a-zA-Z0-9_]*" "$1/first-admin-token" "${2:-/dev/null}" | head -1
}

# wait_healthy PORT: until the server on PORT answers /healthz.
wait_healthy() { until curl -sf "http://127.0.0.1:$1/healthz" > /dev/null; do sleep 0.05; done; }
