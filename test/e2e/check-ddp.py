"""Compares two checkpoints tensor by tensor: check-ddp.py A B --rel R.
Every tensor of A is in B with the same shape, and each element differs by at most
R x (the tensor's largest |element| in B, or 1 when that is smaller). Prints the largest
relative difference and PASS or FAIL."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_read  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--rel", type=float, required=True)
    args = p.parse_args()
    a, b = safetensors_read.load(args.a), safetensors_read.load(args.b)
    ok = set(a) == set(b)
    if not ok:
        print("tensors differ:", sorted(set(a) ^ set(b)))
    worst, worst_name = 0.0, ""
    for name in sorted(set(a) & set(b)):
        (_, shape_a, va), (_, shape_b, vb) = a[name], b[name]
        if shape_a != shape_b:
            print(f"{name}: shape {shape_a} vs {shape_b}")
            ok = False
            continue
        scale = max(1.0, max((abs(x) for x in vb), default=0.0))
        diff = max((abs(x - y) for x, y in zip(va, vb)), default=0.0) / scale
        if diff > worst:
            worst, worst_name = diff, name
    ok = ok and worst <= args.rel
    print(f"{len(a)} tensors, largest relative difference {worst:.3g} ({worst_name or '-'})")
    print("PASS" if ok else "FAIL")


if __name__ == "__main__":
    main()
