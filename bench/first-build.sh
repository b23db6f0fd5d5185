#!/usr/bin/env bash
# The newcomer's first build: `cargo run --release -- …` in a fresh clone with an empty target
# folder, timed from outside (wall, and user + system CPU of the whole build), for this commit
# and, given BASELINE=<commit>, for that commit after it in the same run. The crates are fetched
# first (`cargo fetch`, not timed): the figure is the compile, not the network. `--timings`
# writes each build's per-crate report next to it (cargo-timing.html) to say where the time went.
#
# Usage: bench/first-build.sh            (HEAD)
#        BASELINE=81e1cbf^ bench/first-build.sh
# The machine should be otherwise idle: a build is all its cores' work for minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

one() {
  local label=$1 commit=$2 dir=$work/$1
  git clone -q "$repo" "$dir"
  git -C "$dir" checkout -q --detach "$commit"
  (cd "$dir" && cargo fetch -q)
  local start end
  start=$(date +%s.%N)
  # What the README's first command builds (the `tandem` package, release profile), and runs.
  /usr/bin/time -f "%U %S" -o "$dir/cpu" \
    cargo run --release --timings -q --manifest-path "$dir/Cargo.toml" -- --version > "$dir/version" 2> "$dir/build.log"
  end=$(date +%s.%N)
  read -r user sys < "$dir/cpu"
  python3 - "$label" "$commit" "$start" "$end" "$user" "$sys" "$(cat "$dir/version")" <<'PY'
import sys
label, commit, start, end, user, sys_, version = sys.argv[1:]
wall = float(end) - float(start)
print(f"{label:<9} {commit:<12} wall {wall/60:5.2f} min  cpu {(float(user)+float(sys_))/60:5.2f} min  ({version})")
PY
  mkdir -p "$repo/target/first-build"
  cp "$dir/target/cargo-timings/cargo-timing.html" "$repo/target/first-build/$label.html" 2>/dev/null || true
}

echo "first build, $(nproc) cores: cargo run --release -- --version in a fresh clone, empty target"
one this "$(git rev-parse --short HEAD)"
if [ -n "${BASELINE:-}" ]; then one baseline "$(git rev-parse --short "$BASELINE")"; fi
