#!/usr/bin/env python3
"""Checks the delayed-scaling state (fp8_state buffers) in a checkpoint.

  check-delayed-state.py CKPT --history-len L --steps S --format hybrid|e4m3
                         [--dump DUMP] [--scale-from CKPT2 [--stale]]

Per (layer, role), the checkpoint holds fp8.amax_history.<layer>.<role> (f32 [L]) and
fp8.scale.<layer>.<role> (f32 []); docs/fp8-passes.md "Delayed scaling". Checked:
- every history has L finite, non-negative entries, of which min(L, S) are non-zero (one
  amax pushed per optimizer step; zeros are the initial fill);
- the scale is fp8_max / max(history) rounded to f32 (amax_compute_algo max, margin 0),
  fp8_max 57344 for the grad_output role with --format hybrid, else 448. With
  --scale-from, the history is CKPT2's: the scale last recomputed at CKPT2's step
  (interval > 1). --stale additionally requires that some scale differs from what CKPT's
  own history would give (else the interval case would not be told apart);
- with --dump (a --dump of CKPT's last step, taken before its update): the newest amax
  (history[0]) of every `weight` role is max |W| of that step's weight cast to bf16, W
  read from the dump, recomputed here.
"""
import argparse
import math
import sys

import safetensors_read as st

E4M3_MAX, E5M2_MAX = 448.0, 57344.0


def expected_scale(history, fp8_max):
    return st.f32(fp8_max / max(history))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ckpt")
    parser.add_argument("--history-len", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--format", default="hybrid")
    parser.add_argument("--dump")
    parser.add_argument("--scale-from")
    parser.add_argument("--stale", action="store_true")
    cli = parser.parse_args(argv)
    stale, length, steps, fmt = cli.stale, cli.history_len, cli.steps, cli.format
    ckpt = st.load(cli.ckpt)
    source = st.load(cli.scale_from) if cli.scale_from else ckpt
    dump = st.load(cli.dump) if cli.dump else None

    prefix = "fp8.amax_history."
    keys = sorted(k[len(prefix):] for k in ckpt if k.startswith(prefix))
    if not keys:
        print("FAIL: no fp8.amax_history.* tensors in the checkpoint")
        return 1
    ok, differs, weights = True, 0, 0
    for key in keys:
        _, shape, history = ckpt[prefix + key]
        _, _, scale = ckpt["fp8.scale." + key]
        layer, role = key.rsplit(".", 1)
        fp8_max = E5M2_MAX if role == "grad_output" and fmt == "hybrid" else E4M3_MAX
        nonzero = sum(1 for a in history if a != 0)
        if shape != [length] or not all(math.isfinite(a) and a >= 0 for a in history) \
                or nonzero != min(length, steps):
            print(f"FAIL: {key}: history {shape} {history}: expected {min(length, steps)} "
                  f"finite non-zero amaxes of {length}")
            ok = False
            continue
        want = expected_scale(source[prefix + key][2], fp8_max)
        if scale[0] != want:
            print(f"FAIL: {key}: scale {scale[0]!r}, expected {fp8_max:g} / max(history) = {want!r}")
            ok = False
        if scale[0] != expected_scale(history, fp8_max):
            differs += 1
        if dump is not None and role == "weight":
            weight = dump[layer + ".weight"][2]
            amax = st.bf16(max(abs(w) for w in weight))
            if history[0] != amax:
                print(f"FAIL: {key}: newest amax {history[0]!r}, expected bf16(max |W|) = {amax!r}")
                ok = False
            weights += 1
    print(f"{len(keys)} delayed-scaling states, history length {length}, scales = fp8_max / max(history)")
    if dump is not None:
        print(f"newest weight amax = bf16(max |W|) from the dump: {weights} weights")
        ok = ok and weights > 0
    if stale:
        print(f"scales not yet recomputed from the current history: {differs}")
        ok = ok and differs > 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
