#!/usr/bin/env python3
"""Compares two checkpoints of the same model trained the same number of steps on the
same batches, one with its loss chunked (fp8-chunk-loss) and one without.

  check-chunk-loss.py CHUNKED_CKPT WHOLE_CKPT --param-rel R [--tensor-rel NAME=R ...]

Every tensor (parameters and optimizer moments) must have the same names and shapes;
the largest difference of each tensor, relative to that tensor's largest element, must
stay within --param-rel, or within the limit --tensor-rel gives that tensor by name.
Prints the worst tensor and its difference, then PASS or FAIL.
"""
import argparse
import sys

import safetensors_read as st


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chunked")
    parser.add_argument("whole")
    parser.add_argument("--param-rel", type=float, required=True)
    parser.add_argument("--tensor-rel", action="append", default=[], metavar="NAME=R")
    cli = parser.parse_args(argv)
    limits = {name: float(r) for name, r in (t.split("=") for t in cli.tensor_rel)}
    chunked, whole = st.load(cli.chunked), st.load(cli.whole)
    if sorted(chunked) != sorted(whole):
        print("FAIL: the checkpoints hold different tensors")
        return 1
    worst, worst_name, differing, over = 0.0, "", 0, []
    for name in sorted(whole):
        (_, c_shape, c), (_, w_shape, w) = chunked[name], whole[name]
        if c_shape != w_shape:
            print(f"FAIL: {name}: shape {c_shape} vs {w_shape}")
            return 1
        scale = max((abs(x) for x in w), default=0.0) or 1.0
        diff = max((abs(a - b) for a, b in zip(c, w)), default=0.0) / scale
        differing += diff > 0
        limit = limits.get(name, cli.param_rel)
        if diff > limit:
            over.append(f"{name} {diff:.3g} > {limit:g}")
        if name not in limits and diff > worst:
            worst, worst_name = diff, name
    for name in sorted(limits):
        if name not in whole:
            print(f"FAIL: --tensor-rel names no tensor: {name}")
            return 1
    print(f"tensors: {len(whole)}, {differing} differ; largest relative difference "
          f"{worst:.3g} ({worst_name or 'none'}) outside the tensors with limits of their own")
    print("PASS" if not over else "FAIL: above the limit: " + "; ".join(over))
    return 0 if not over else 1

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
