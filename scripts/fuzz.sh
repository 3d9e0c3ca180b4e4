#!/bin/sh
# Builds the runtime's libFuzzer targets with clang (-fsanitize=fuzzer,address,
# undefined) in build-fuzz/ and runs one of them for a while.
#
#   scripts/fuzz.sh [SECONDS] [TARGET]      defaults: 30, safetensors
#                                           (targets: safetensors, program)
#
# The runtime is configured on its own (runtime/CMakeLists.txt; no MLIR), so
# this needs only clang and CMake. The corpus grows in build-fuzz/corpus/TARGET
# and is reused by the next run; crashes are written to build-fuzz/crashes/.
# Exit status: 0 when the time ran out without a finding, non-zero otherwise.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-30}
target=${2:-safetensors}
clangxx=${CLANGXX:-/usr/bin/clang++-14}
build=$root/build-fuzz

if [ ! -x "$clangxx" ]; then
  echo "fuzz.sh: $clangxx not found (set CLANGXX to a clang++ with libFuzzer)" >&2
  exit 2
fi

cmake -G Ninja -S "$root/runtime" -B "$build" \
  -DCMAKE_CXX_COMPILER="$clangxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFP8C_BUILD_FUZZERS=ON >/dev/null
ninja -C "$build" "$target-fuzz"

corpus=$build/corpus/$target
seeds=$build/seeds/$target
mkdir -p "$corpus" "$seeds" "$build/crashes"

# Little-endian u64 as 8 raw bytes.
le64() {
  n=$1 i=0
  while [ "$i" -lt 8 ]; do
    printf "\\$(printf %03o $((n % 256)))"
    n=$((n / 256)) i=$((i + 1))
  done
}
# seed NAME HEADER DATA(printf format): one valid file per call.
seed() {
  { le64 ${#2}; printf '%s' "$2"; printf "$3"; } >"$seeds/$1"
}

if [ "$target" = safetensors ]; then
  seed empty '{}      ' ''
  seed meta '{"__metadata__":{"format":"pt"}}     ' ''
  seed f32 '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  ' \
    '\000\000\200\077\000\000\000\300'
  seed mixed '{"__metadata__":{"k":"v"},"s":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"w":{"dtype":"BF16","shape":[2,1],"data_offsets":[8,12]},"q":{"dtype":"F8_E4M3","shape":[3],"data_offsets":[12,15]},"z":{"dtype":"U8","shape":[0],"data_offsets":[15,15]}}' \
    '\001\000\000\000\000\000\000\000\200\077\000\100\070\071\072'
fi

if [ "$target" = program ]; then
  cp "$root"/test/fuzz/program-seeds/*.fp8prog "$seeds/"
fi

dict=$root/test/fuzz/$target.dict
set -- -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix="$build/crashes/" "$corpus" "$seeds"
[ -f "$dict" ] && set -- -dict="$dict" "$@"
exec "$build/fuzz/$target-fuzz" "$@"
