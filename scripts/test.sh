#!/usr/bin/env bash
# Sets up, builds and runs every test: a short libFuzzer run of the runtime's
# file readers under ASan/UBSan, the runtime built on its own (no MLIR/LLVM)
# with its unit tests, then lit + FileCheck, GoogleTest and the docs checks
# through ctest (last, so its summary closes the output).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/fuzz.sh "${FP8C_FUZZ_SECONDS:-20}" safetensors
bash scripts/fuzz.sh "${FP8C_FUZZ_SECONDS:-20}" program
# The runtime alone (docs/runtime.md, "Tests"): build-rt/ is kept between runs,
# so only the first run compiles it all.
cmake -G Ninja -S runtime -B build-rt -DCMAKE_BUILD_TYPE=Release -DFP8RT_BUILD_TESTS=ON >/dev/null
ninja -C build-rt
ctest --test-dir build-rt --output-on-failure -j "$(nproc)"
ctest --test-dir build --output-on-failure -j "$(nproc)"
