#!/usr/bin/env python3
"""Checks a short FP8 training run against a BF16 run of the same model, seed and data.

  check-recipe.py BF16_JSONL FP8_JSONL --format hybrid|e4m3 --rel FRACTION [--pow2] [--no-metrics]

- both runs learn: the mean loss of the last 10 steps is below half the first step's;
- the FP8 run's final loss (mean of the last 10 steps) is within --rel of BF16's;
- every step of the FP8 run reports a finite, positive amax and scale for each FP8
  operand (`<gemm>.<a|b>.amax` / `.scale`; rowwise and blockwise ones as {min, max}),
  and the scale is the recipe's formula recomputed here from the amax:
  fp8_max / amax, fp8_max being 448 (E4M3) or 57344 (E5M2). The operand that is a
  gradient (dy) is the lhs of the dgrad (dx = dy W) and of the wgrad (dW = dy^T x); it
  is E5M2 with --format hybrid, E4M3 with --format e4m3. For {min, max} metrics the
  largest scale belongs to the smallest amax and vice versa. A NaN or inf is
  written by fp8-run as a string, which fails the float checks.
- --pow2 (power_of_2_scales): the scale is that quotient rounded down to a power of two.
- --no-metrics: the run must report no metrics at all (BF16, or delayed scaling whose
  state lives in fp8_state buffers instead).
"""
import argparse
import json
import math
import sys

FLT_MIN = 1.1754943508222875e-38
E4M3_MAX, E5M2_MAX = 448.0, 57344.0


def records(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    if len(rows) < 11:
        sys.exit(f"{path}: {len(rows)} steps logged, need at least 11")
    for r in rows:
        if not is_number(r["loss"]):
            sys.exit(f"{path}: step {r['step']}: loss {r['loss']!r} is not finite")
    return rows


def learns(name, rows):
    first = rows[0]["loss"]
    final = sum(r["loss"] for r in rows[-10:]) / 10
    print(f"{name}: first loss {first:.4f}, mean of last 10 {final:.4f}")
    if not final < 0.5 * first:
        print(f"FAIL: {name} did not learn (mean of last 10 not below half the first loss)")
        return None
    return final


def is_number(x):
    # fp8-run writes 896.0 as 896: ints are numbers too; "nan" / "inf" strings are not
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def is_positive_finite(x):
    return is_number(x) and x > 0


POW2 = False


def expected_scale(amax, fp8_max, nudge=0.0):
    quotient = fp8_max / amax * (1 + nudge)
    return 2.0 ** math.floor(math.log2(quotient)) if POW2 else quotient


def scale_matches(scale, amax, fp8_max):
    # compute_scale is fp8_max / amax rounded once to f32 (margin 0): a relative 2^-23
    # covers that rounding and the 9 digits fp8-run prints. A power of two is exact, but
    # the printed amax is not, so a quotient on a power of two may round either way.
    if amax < FLT_MIN:  # a zero amax keeps the previous scale (1 here), nothing to recompute
        return True
    return any(abs(scale - e) <= 2e-7 * e
               for e in (expected_scale(amax, fp8_max, n) for n in (-1e-7, 0.0, 1e-7)))


def check_metrics(rows, fmt):
    operands = 0
    for r in rows:
        metrics = r["metrics"]
        names = sorted(k[: -len(".amax")] for k in metrics if k.endswith(".amax"))
        if not names:
            print(f"FAIL: step {r['step']}: no FP8 metrics")
            return False
        for op in names:
            amax, scale = metrics[op + ".amax"], metrics.get(op + ".scale")
            gradient = op.endswith((".dgrad.a", ".wgrad.a"))
            fp8_max = E5M2_MAX if gradient and fmt == "hybrid" else E4M3_MAX
            if isinstance(amax, dict):  # rowwise / blockwise: {min, max} over the scales
                if not isinstance(scale, dict):
                    print(f"FAIL: step {r['step']}: {op}: amax is per row/block, scale {scale!r} is not")
                    return False
                values = [amax["min"], amax["max"], scale["min"], scale["max"]]
                ok = all(is_number(v) for v in values) \
                    and amax["min"] >= 0 and is_positive_finite(amax["max"]) \
                    and is_positive_finite(scale["min"])
                if ok and amax["min"] < FLT_MIN:
                    # an all-zero row or block keeps the fallback scale 1
                    expected_min = min(1.0, expected_scale(amax["max"], fp8_max))
                    ok = abs(scale["min"] - expected_min) <= 2e-7 * expected_min \
                        and scale["max"] >= max(1.0, expected_scale(amax["max"], fp8_max)) * (1 - 2e-7)
                elif ok:
                    ok = scale_matches(scale["min"], amax["max"], fp8_max) \
                        and scale_matches(scale["max"], amax["min"], fp8_max)
            else:
                ok = is_positive_finite(amax) and is_positive_finite(scale) \
                    and scale_matches(scale, amax, fp8_max)
            if not ok:
                print(f"FAIL: step {r['step']}: {op}: amax {amax!r}, scale {scale!r} "
                      f"(expected {fp8_max:g} / amax{', power of 2' if POW2 else ''})")
                return False
        operands = len(names)
        if r["nonfinite"]["metrics"] != 0:
            print(f"FAIL: step {r['step']}: nonfinite metrics {r['nonfinite']}")
            return False
    print(f"fp8 metrics: {operands} operands per step, amax and scale finite, scale = fp8_max / amax")
    return True


def main(argv):
    global POW2
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bf16_jsonl")
    parser.add_argument("fp8_jsonl")
    parser.add_argument("--format", choices=("hybrid", "e4m3"), default="hybrid")
    parser.add_argument("--rel", type=float, required=True)
    parser.add_argument("--pow2", action="store_true")
    parser.add_argument("--no-metrics", dest="metrics", action="store_false")
    cli = parser.parse_args(argv)
    fmt, rel, metrics = cli.format, cli.rel, cli.metrics
    POW2 = cli.pow2
    bf16_rows, fp8_rows = records(cli.bf16_jsonl), records(cli.fp8_jsonl)
    bf16 = learns("bf16", bf16_rows)
    fp8 = learns("fp8", fp8_rows)
    ok = bf16 is not None and fp8 is not None
    if ok:
        diff = abs(fp8 - bf16) / bf16
        print(f"fp8 vs bf16: {100 * diff:.3f}% (limit {100 * rel:g}%)")
        ok = diff <= rel
    if any(r["metrics"] for r in bf16_rows):
        print("FAIL: the bf16 run reports FP8 metrics")
        ok = False
    if metrics:
        ok = check_metrics(fp8_rows, fmt) and ok
    elif any(r["metrics"] for r in fp8_rows):
        print("FAIL: metrics were expected to be empty")
        ok = False
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
