#!/usr/bin/env bash
# The main job: set up and build, compile examples/gpt-tiny.yaml into a training
# program and train it with fp8-run (the CUDA backend when a usable GPU is
# present, else the CPU backend, which emulates FP8 bit-exactly): the loss falls
# toward the entropy floor of the built-in synthetic corpus. On the way it shows
# which GEMMs run in FP8 and the planned memory, writes gpt-tiny's IR after
# every pass to build/examples/gpt-tiny.passes.mlir, and compiles every other
# example to its program file in build/examples/; the run is drawn in build/examples/gpt-tiny.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p build/examples
fp8c=build/bin/fp8c

echo "=== fp8c examples/gpt-tiny.yaml --fp8-report"
$fp8c examples/gpt-tiny.yaml --fp8-report | tail -n 8
echo "=== fp8c examples/gpt-tiny.yaml --memory-report"
$fp8c examples/gpt-tiny.yaml --memory-report | sed -n '1,16p'
echo "=== fp8c examples/gpt-tiny.yaml -o build/examples/gpt-tiny.fp8prog"
$fp8c examples/gpt-tiny.yaml --mlir-print-ir-after-all --mlir-elide-elementsattrs-if-larger=16 \
  -o build/examples/gpt-tiny.fp8prog 2> build/examples/gpt-tiny.passes.mlir
echo "(IR after every pass: build/examples/gpt-tiny.passes.mlir," \
  "$(grep -c '// -----// IR Dump After' build/examples/gpt-tiny.passes.mlir) dumps)"
for model in examples/*.yaml; do
  name=$(basename "$model" .yaml)
  [ "$name" = gpt-tiny ] && continue
  $fp8c "$model" -o "build/examples/$name.fp8prog"
  printf '%-26s -> build/examples/%s.fp8prog\n' "$model" "$name"
done

echo "=== fp8-run build/examples/gpt-tiny.fp8prog --synthetic --log=build/examples/gpt-tiny.jsonl --plot=build/examples/gpt-tiny.svg"
build/bin/fp8-run build/examples/gpt-tiny.fp8prog --synthetic --log-interval=10 \
  --log=build/examples/gpt-tiny.jsonl --save=build/examples/gpt-tiny.safetensors \
  --plot=build/examples/gpt-tiny.svg
