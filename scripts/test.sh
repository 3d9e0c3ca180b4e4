#!/usr/bin/env bash
# Sets up, builds and runs every test: a short libFuzzer run of the runtime's
# file readers under ASan/UBSan, then lit + FileCheck, GoogleTest and the docs
# checks through ctest (last, so its summary closes the output).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/fuzz.sh "${FP8C_FUZZ_SECONDS:-20}" safetensors
bash scripts/fuzz.sh "${FP8C_FUZZ_SECONDS:-20}" program
ctest --test-dir build --output-on-failure -j "$(nproc)"
