#!/usr/bin/env bash
# The main job: set up, build, and compile the example models, showing the IR.
# (Training them arrives with the runtime; see docs/architecture.md.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
for model in examples/*.mlir; do
  echo "=== fp8c $model --mlir-print-ir-after-all"
  build/bin/fp8c "$model" --mlir-print-ir-after-all -o /dev/null
done
