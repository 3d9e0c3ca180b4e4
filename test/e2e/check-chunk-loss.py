#!/usr/bin/env python3
"""Compares two checkpoints of the same model trained the same number of steps on the
same batches, one with its loss chunked (fp8-chunk-loss) and one without.

  check-chunk-loss.py CHUNKED_CKPT WHOLE_CKPT --param-rel R

Every tensor (parameters and optimizer moments) must have the same names and shapes;
the largest difference of each tensor, relative to that tensor's largest element, must
stay within --param-rel. Prints the worst tensor and its difference, then PASS or FAIL.
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
    cli = parser.parse_args(argv)
    chunked, whole = st.load(cli.chunked), st.load(cli.whole)
    if sorted(chunked) != sorted(whole):
        print("FAIL: the checkpoints hold different tensors")
        return 1
    worst, worst_name, differing = 0.0, "", 0
    for name in sorted(whole):
        (_, c_shape, c), (_, w_shape, w) = chunked[name], whole[name]
        if c_shape != w_shape:
            print(f"FAIL: {name}: shape {c_shape} vs {w_shape}")
            return 1
        scale = max((abs(x) for x in w), default=0.0) or 1.0
        diff = max((abs(a - b) for a, b in zip(c, w)), default=0.0) / scale
        differing += diff > 0
        if diff > worst:
            worst, worst_name = diff, name
    print(f"tensors: {len(whole)}, {differing} differ; largest relative difference "
          f"{worst:.3g} ({worst_name or 'none'})")
    ok = worst <= cli.param_rel
    print("PASS" if ok else f"FAIL: above the limit {cli.param_rel:g}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
