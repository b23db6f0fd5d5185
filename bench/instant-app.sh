# Sourced by bench scripts: a service `app` whose deploy is the `command` driver running `true`
# (instant), 25 markets in 5 waves, and `tandem serve` on a free port. Sets `work`, `port`,
# `token` and `serve_pid`, and stops the server and removes `work` on exit.
# APP_CONFIG (optional): the service's `config:` in flow style, such as `{ defaults: { a: 0 } }`.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bin=$PWD/target/release/tandem
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
work=$(mktemp -d)
serve_pid=
trap '[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; rm -rf "$work"' EXIT

instant_repo "$work/app" app
codes=(fr be nl lu de at ch it es pt gr mt cy ie gb se dk fi ee lv lt pl cz sk hu)
{
  echo "markets:"
  for c in "${codes[@]}"; do echo "  - { id: $c, name: M-$c, region: eu, currency: EUR, locale: en-GB, timezone: Europe/Paris }"; done
  echo "waves:"
  echo "  - { name: pilot, markets: [fr] }"
  echo "  - { name: w2, markets: [be, nl, lu] }"
  echo "  - { name: w3, markets: [de, at, ch] }"
  echo "  - { name: w4, markets: [it, es, pt, gr, mt, cy] }"
  echo "  - { name: w5, markets: [ie, gb, se, dk, fi, ee, lv, lt, pl, cz, sk, hu] }"
  echo "services:"
  echo "  - { name: app, repo: $work/app${APP_CONFIG:+, config: $APP_CONFIG} }"
} > "$work/platform.yml"

port=$(free_port)
"$bin" serve --data-dir "$work/data" --platform "$work/platform.yml" --listen "127.0.0.1:$port" 2> "$work/serve.log" &
serve_pid=$!
# The first admin token is written to the data folder, not to the log (docs/operations.md).
token=$(first_token "$work/data")
