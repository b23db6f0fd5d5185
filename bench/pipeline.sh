#!/usr/bin/env bash
# Pipeline overhead and log throughput, each against a baseline measured in the same run:
#   - 200 `true` steps: in one job, as a chain of 200 jobs, and fanned out 20 wide
#     (20 independent chains of 10 jobs), run by `tandem run`, against a shell loop running
#     the same 200 commands; and a pipeline of one `true` step, for the fixed cost of a run.
#     Each round times every case once, the loop included, so that load from elsewhere on the
#     machine weighs on all of them alike; the figures are medians over the rounds;
#   - a step writing 1 GiB to its log: throughput captured and stored, and the peak RSS of
#     `tandem run`, against the same shell pipeline writing the same bytes to a file.
# Usage: bench/pipeline.sh [runs]   (needs a release build: cargo build --release)
#   TANDEM=path/to/tandem bench/pipeline.sh   times another build; NO_LOG=1 skips the 1 GiB log.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
bin=${TANDEM:-$PWD/target/release/tandem}
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

repo() { # name, then the tandem.yml on stdin
  mkdir -p "$work/$1" && cat > "$work/$1/tandem.yml"
  (cd "$work/$1" && git init -q -b main && git add . && git -c user.name=b -c user.email=b@b commit -qm bench)
}

{ echo "service: bench"; echo "pipeline:"; echo "  jobs:"; echo "    all:"; echo "      steps:"
  for i in $(seq 200); do echo "        - run: 'true'"; done; } | repo steps
{ echo "service: bench"; echo "pipeline:"; echo "  jobs:"
  for i in $(seq 200); do echo "    j$i:"; [ "$i" -gt 1 ] && echo "      needs: [j$((i-1))]"; echo "      steps: [{ run: 'true' }]"; done; } | repo chain
{ echo "service: bench"; echo "pipeline:"; echo "  jobs:"
  for lane in $(seq 20); do for i in $(seq 10); do
    echo "    l${lane}-$i:"; [ "$i" -gt 1 ] && echo "      needs: [l${lane}-$((i-1))]"; echo "      steps: [{ run: 'true' }]"
  done; done; } | repo fanout
{ echo "service: bench"; echo "pipeline:"; echo "  jobs:"; echo "    one:"; echo "      steps: [{ run: 'true' }]"; } | repo one
{ echo "service: bench"; echo "pipeline:"; echo "  jobs:"; echo "    loud:"; echo "      steps:"
  echo "        - run: head -c 1073741824 /dev/zero | tr '\\\\0' 'x' | fold -w 100"; } | repo log

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for r in $(seq "$runs"); do
  ms sh -c 'for i in $(seq 200); do sh -c true; done' >> "$work/loop.ms"
  (cd "$work/one" && ms "$bin" run) >> "$work/one.ms"
  (cd "$work/steps" && ms "$bin" run) >> "$work/steps.ms"
  (cd "$work/chain" && ms "$bin" run) >> "$work/chain.ms"
  (cd "$work/fanout" && ms "$bin" run --parallel 20) >> "$work/fanout.ms"
done
loop=$(median < "$work/loop.ms"); one=$(median < "$work/one.ms"); steps=$(median < "$work/steps.ms")
chain=$(median < "$work/chain.ms"); fanout=$(median < "$work/fanout.ms")

# 1 GiB of log: time and peak RSS of the whole `tandem run`, against writing the same bytes.
base=0 log_s=0 log_kb=0
if [ -z "${NO_LOG:-}" ]; then
  base=$(ms sh -c "head -c 1073741824 /dev/zero | tr '\\0' 'x' | fold -w 100 > $work/plain.txt")
  rm -f "$work/plain.txt"
  (cd "$work/log" && /usr/bin/time -f "%e %M" -o "$work/time.txt" "$bin" run >/dev/null 2>&1) || true
  read -r log_s log_kb < "$work/time.txt"
fi

python3 - "$loop" "$steps" "$chain" "$fanout" "$base" "$log_s" "$log_kb" "$one" "$runs" <<'PY'
import sys
loop, steps, chain, fanout, base = map(int, sys.argv[1:6])
log_s, log_kb = float(sys.argv[6]), int(sys.argv[7])
one, runs = int(sys.argv[8]), sys.argv[9]
print(f"medians of {runs} rounds")
print(f"shell loop, 200 x sh -c true        {loop} ms")
print(f"tandem run, 1 job of 1 step         {one} ms  (the fixed cost of a run)")
print(f"tandem run, 1 job of 200 steps      {steps} ms  ({steps/loop:.2f}x the loop)")
print(f"tandem run, chain of 200 jobs       {chain} ms  ({chain/loop:.2f}x the loop)")
print(f"tandem run, 20 chains of 10 jobs    {fanout} ms  ({fanout/loop:.2f}x the loop)")
if log_s > 0 and base > 0:
    print(f"1 GiB step output: tandem run       {log_s:.1f} s, {1024/log_s:.0f} MiB/s, peak RSS {log_kb/1024:.1f} MiB")
    print(f"  baseline: same bytes to a file    {base/1000:.1f} s  ({log_s/(base/1000):.1f}x)")
PY
