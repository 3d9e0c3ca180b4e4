#!/usr/bin/env python3
"""Compares the --dump of a step with gradient accumulation (N micro-batches of B) with
the --dump of the same step without it (one batch of N*B), same data and seed.

  check-accum.py ACCUM_DUMP FULL_DUMP --loss-rel R --grad-rel R --param-rel R

What must match (docs/autodiff.md "Gradient accumulation", nanoGPT's convention): the
sampler draws the same N*B rows in the same order, so batch.tokens [N, B, T] read in row
order is FULL's [N*B, T], exactly. The loss reported is the mean of the N micro-batch
means, which equals the mean over the N*B rows (equal token counts, no ignore_index);
the gradient is (sum of the N micro-batch mean gradients) / N, the gradient of that same
mean. So loss and grad_norm agree to f32 summation order (relative --loss-rel), every
gradient tensor to --grad-rel of its largest element, and every parameter (before this
step's update: the result of the earlier steps) to --param-rel of its largest element.
"""
import argparse
import sys

import safetensors_read as st


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("accum_dump")
    parser.add_argument("full_dump")
    for name in ("--loss-rel", "--grad-rel", "--param-rel"):
        parser.add_argument(name, type=float, required=True)
    cli = parser.parse_args(argv)
    accum, full = st.load(cli.accum_dump), st.load(cli.full_dump)
    ok = True
    for key in ("batch.tokens", "batch.targets"):
        a_shape, f_shape = accum[key][1], full[key][1]
        if len(a_shape) != 3 or [a_shape[0] * a_shape[1], a_shape[2]] != f_shape:
            print(f"FAIL: {key}: accumulated shape {a_shape} is not micro-batches of {f_shape}")
            ok = False
        elif accum[key][2] != full[key][2]:
            print(f"FAIL: {key}: the micro-batches do not hold the full batch's rows")
            ok = False
    print(f"batch: {accum['batch.tokens'][1]} micro-batches hold the rows of {full['batch.tokens'][1]}")

    for key in ("loss", "grad_norm"):
        a, f = accum[key][2][0], full[key][2][0]
        rel = abs(a - f) / abs(f)
        print(f"{key}: {a:.7f} vs {f:.7f}")
        if rel > cli.loss_rel:
            print(f"FAIL: {key} differs by {rel:.3g} (limit {cli.loss_rel:g})")
            ok = False

    worst = {"grad": (0.0, ""), "param": (0.0, "")}
    names = [k for k in full if not k.startswith("batch.") and k not in ("loss", "grad_norm")]
    for name in names:
        if name not in accum:
            print(f"FAIL: {name} missing from the accumulated dump")
            ok = False
            continue
        a, f = accum[name][2], full[name][2]
        largest = max(abs(v) for v in f)
        diff = max(abs(x - y) for x, y in zip(a, f))
        rel = diff / largest if largest else diff
        kind = "grad" if name.startswith("grad.") else "param"
        if rel >= worst[kind][0]:
            worst[kind] = (rel, name)
    grads = sum(1 for n in names if n.startswith("grad."))
    for kind, limit in (("grad", cli.grad_rel), ("param", cli.param_rel)):
        rel, name = worst[kind]
        print(f"{kind}s: largest difference {rel:.3g} of the tensor's largest element ({name}), limit {limit:g}")
        ok = ok and rel <= limit
    if grads == 0:
        print("FAIL: no gradients in the dumps")
        ok = False
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
