#!/usr/bin/env bash
# The main job: set up, build, and compile every example model through the whole
# pipeline (forward, autodiff, FP8 selection and casts). gpt-tiny's IR is printed
# after every pass and gpt2-small's FP8 GEMM report is shown; every example's final
# IR is written to build/examples/. (Training arrives with the runtime:
# docs/architecture.md.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p build/examples
echo "=== fp8c examples/gpt-tiny.yaml --mlir-print-ir-after-all"
build/bin/fp8c examples/gpt-tiny.yaml --mlir-print-ir-after-all \
  --mlir-elide-elementsattrs-if-larger=16 -o build/examples/gpt-tiny.mlir 2>&1
echo "=== fp8c examples/gpt2-small.yaml --fp8-report"
build/bin/fp8c examples/gpt2-small.yaml --fp8-report | tail -n 6
for model in examples/*.yaml examples/*.mlir; do
  name=$(basename "$model")
  stage=fp8
  # llama-block.mlir is one block returning hidden states, not a loss: forward only.
  grep -q "train.softmax_cross_entropy\|^model:" "$model" || stage=forward
  build/bin/fp8c "$model" --emit=$stage --mlir-elide-elementsattrs-if-larger=16 \
    -o "build/examples/$name.$stage.mlir"
  printf '%-28s --emit=%-8s -> build/examples/%s.%s.mlir (%s lines)\n' "$model" "$stage" \
    "$name" "$stage" "$(wc -l < "build/examples/$name.$stage.mlir")"
done
