#!/usr/bin/env bash
# Sets up, builds and runs every test: lit + FileCheck, GoogleTest, the docs check.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure
