#!/usr/bin/env bash
# The attention table of issue 14 on one GPU, in one run: fp8c's generated
# train.attention / train.attention_grad (fp8-bench --attention: tensor-core
# FlashAttention-2-style kernels at head dims 64 and 128) next to PyTorch's
# F.scaled_dot_product_attention at the same shapes, causal, bf16.
#
#   scripts/bench-attention.sh [FP8_BENCH]   (default: build/bin/fp8-bench, or
#                                             fp8-bench next to this script)
#
# FLOPs as FlashAttention counts them: forward 4·B·H·T²·D, backward 2.5× the
# forward, both halved for causal. PyTorch's part needs python3 with torch and
# CUDA; without them it says so and the fp8c part still runs. Not run in CI
# (no GPU there): docs/performance.md, "Attention".
set -uo pipefail
cd "$(dirname "$0")/.."
bench=${1:-build/bin/fp8-bench}
[[ -x "$bench" ]] || bench="$(dirname "$0")/fp8-bench"

echo "== fp8c (fp8-bench --attention)"
"$bench" --attention || echo "fp8-bench failed (rc $?)"

echo
echo "== PyTorch F.scaled_dot_product_attention"
python3 - <<'PY' || echo "PyTorch part failed (rc $?)"
import sys
try:
    import torch
    import torch.nn.functional as F
except ImportError as e:
    sys.exit(f"no torch: {e}")
if not torch.cuda.is_available():
    sys.exit("torch sees no GPU")
print(f"GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}")
print(f"  {'B':>4} {'H':>4} {'T':>6} {'D':>4}   {'backend':>10} {'fwd ms':>10} {'fwd TF/s':>10} {'bwd ms':>10} {'bwd TF/s':>10}")

def timed(fn, repeats=20):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(repeats):
        start.record(); fn(); end.record(); torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    times.sort()
    return times[len(times) // 2]

backends = {"default": None}
try:
    from torch.nn.attention import sdpa_kernel, SDPBackend
    backends = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}
except ImportError:
    pass
for B, H, T, D in [(12, 12, 1024, 64), (4, 32, 2048, 64), (4, 32, 2048, 128)]:
    q, k, v = (torch.randn(B, H, T, D, device="cuda", dtype=torch.bfloat16, requires_grad=True) for _ in range(3))
    flops = 4.0 * B * H * T * T * D * 0.5
    for name, backend in backends.items():
        try:
            ctx = sdpa_kernel(backend) if backend is not None else torch.enable_grad()
            with ctx:
                out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
                grad = torch.randn_like(out)
                fwd = timed(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True))
                bwd = timed(lambda: torch.autograd.grad(out, (q, k, v), grad, retain_graph=True))
            print(f"  {B:>4} {H:>4} {T:>6} {D:>4}   {name:>10} {fwd*1e3:>10.3f} {flops/fwd/1e12:>10.1f} {bwd*1e3:>10.3f} {2.5*flops/bwd/1e12:>10.1f}")
        except RuntimeError as e:
            print(f"  {B:>4} {H:>4} {T:>6} {D:>4}   {name:>10} unavailable: {str(e).splitlines()[0]}")
PY
