#!/usr/bin/env bash
# Packs what a GPU machine without MLIR, a compiler toolchain or network needs
# to run issue 6's GPU checks (docs/cuda-backend.md, "On a GPU machine"):
#
#   .gpu-bundle/bin/    fp8-run, fp8-bench, fp8c-gpu-tests and its programs/
#   .gpu-bundle/lib/    the non-CUDA shared libraries they need (OpenBLAS, ...)
#   .gpu-bundle/bench/  gpt2-small and llama-1b compiled with FP8 on and off
#   .gpu-bundle/run.sh  runs everything there, writing logs to $1 (default .)
#
# The programs are compiled here by fp8c; the binaries link the CUDA runtime,
# cuBLASLt and NVRTC dynamically and never libcuda. The folder is git-ignored;
# carry it to the GPU machine (device tool: carry [".gpu-bundle"]) and run
# `bash .gpu-bundle/run.sh "$OUT"`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x build/bin/fp8c ]]; then
  bash scripts/setup.sh
fi
ninja -C build fp8c fp8-run fp8-bench fp8c-gpu-tests fp8c-gpu-test-programs

out=.gpu-bundle
rm -rf "$out"
mkdir -p "$out/bin/programs" "$out/lib" "$out/bench"
cp build/bin/fp8-run build/bin/fp8-bench build/test/gpu/fp8c-gpu-tests "$out/bin/"
cp build/test/gpu/programs/*.fp8prog "$out/bin/programs/"
strip "$out/bin/fp8-run" "$out/bin/fp8-bench" "$out/bin/fp8c-gpu-tests"

# Shared libraries outside glibc, libstdc++ and CUDA: the GPU image has
# neither OpenBLAS nor gfortran.
for lib in $(ldd build/bin/fp8-run build/test/gpu/fp8c-gpu-tests | awk '/=> \//{print $3}' | sort -u); do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libstdc++.so*|libgcc_s.so*) ;;
    libcudart.so*|libcublasLt.so*|libcublas.so*|libnvrtc*) ;;
    *) cp -L "$lib" "$out/lib/" ;;
  esac
done

for m in gpt2-small llama-1b; do
  build/bin/fp8c "examples/$m.yaml" -o "$out/bench/$m.fp8.fp8prog"
  sed 's/^  enabled: true .*/  enabled: false/' "examples/$m.yaml" > "$out/bench/$m.bf16.yaml"
  build/bin/fp8c "$out/bench/$m.bf16.yaml" -o "$out/bench/$m.bf16.fp8prog"
  rm "$out/bench/$m.bf16.yaml"
done

cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# On the GPU machine: the GPU tests, gpt-tiny trained on --backend=auto (the
# README's main job with the program compiled elsewhere), then fp8-bench.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
logs="${1:-.}"
mkdir -p "$logs"
export LD_LIBRARY_PATH="$here/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib:${LD_LIBRARY_PATH:-}"
export FP8C_CACHE_DIR="${FP8C_CACHE_DIR:-/tmp/fp8c-cache}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$logs/gpu.txt"
echo "== fp8c-gpu-tests"
"$here/bin/fp8c-gpu-tests" 2>&1 | tee "$logs/gpu-tests.log"
echo "== fp8-run gpt-tiny (200 steps, synthetic, backend auto)"
"$here/bin/fp8-run" "$here/bin/programs/gpt-tiny.fp8prog" --backend=auto --synthetic \
  --steps=200 --log="$logs/gpt-tiny-gpu.jsonl" 2>&1 | tee "$logs/gpt-tiny-gpu.log"
echo "== fp8-bench"
"$here/bin/fp8-bench" --fp8 "$here/bench/gpt2-small.fp8.fp8prog" --bf16 "$here/bench/gpt2-small.bf16.fp8prog" \
  --fp8 "$here/bench/llama-1b.fp8.fp8prog" --bf16 "$here/bench/llama-1b.bf16.fp8prog" 2>&1 | tee "$logs/fp8-bench.log"
RUN
chmod +x "$out/run.sh"
du -sh "$out"
