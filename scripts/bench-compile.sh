#!/usr/bin/env bash
# Compile-time benchmark (not a test): gpt2-small's width at growing depth.
#
#   scripts/bench-compile.sh [FP8C] [LAYERS...]     default: build/bin/fp8c, 12 24 48 96 192
#
# For each depth it writes examples/gpt2-small.yaml with n_layers changed into a temp dir,
# compiles it to a program file once with --mlir-timing, and prints one row:
#   passes  the pass pipeline: --mlir-timing's total wall time less its "Rest" (the
#           time outside passes, mostly writing the program file)
#   e2e     wall seconds of the whole fp8c run, YAML to program file written
#   e2e_cpu its user + system CPU seconds (passes may run on two threads)
#   program the program file's size
# Run it on an otherwise idle machine; docs/performance.md ("Compile time") has figures.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fp8c=${1:-$root/build/bin/fp8c}
shift || true
layers=("$@")
[ ${#layers[@]} -gt 0 ] || layers=(12 24 48 96 192)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '%7s %9s %9s %9s %12s\n' layers passes_s e2e_s e2e_cpu_s program_B
for n in "${layers[@]}"; do
  yaml=$tmp/gpt2-$n.yaml
  sed "s/^\(  n_layers: *\)[0-9]*/\1$n/" "$root/examples/gpt2-small.yaml" > "$yaml"
  # bash's `time`: wall, then user + system CPU seconds (steadier on a busy machine).
  times=$( { TIMEFORMAT='%3R %3U %3S'; time "$fp8c" "$yaml" -o "$tmp/gpt2-$n.fp8prog" \
               --mlir-timing 2> "$tmp/timing-$n.txt"; } 2>&1)
  read -r e2e user sys <<< "$times"
  # Rows are "[user (%)] wall (%) name" (user only when passes ran on threads).
  passes=$(awk 'function wall(   i) { for (i = NF; i > 0; --i) if ($i ~ /^[0-9]+\.[0-9]+$/) return $i }
                $NF == "Total" {total = wall()}
                $NF == "Rest" {rest = wall()}
                END {printf "%.3f", total - rest}' "$tmp/timing-$n.txt")
  size=$(stat -c %s "$tmp/gpt2-$n.fp8prog")
  printf '%7d %9s %9s %9.3f %12d\n' "$n" "$passes" "$e2e" "$(echo "$user + $sys" | bc)" "$size"
done
