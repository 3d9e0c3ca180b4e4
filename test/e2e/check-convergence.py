#!/usr/bin/env python3
"""Checks a training run against the synthetic corpus' entropy floor, and an
FP8 run against a BF16 run of the same model, data and seed.

  check-convergence.py BF16_STDOUT BF16_JSONL [FP8_JSONL] [--gap NATS] [--rel FRACTION]

The entropy rate is read from fp8-run's "entropy rate X nats/token" line; the
final loss of a run is the mean loss of its last 20 steps (one step's loss is
one batch's, too noisy to compare on its own)."""
import argparse
import json
import re
import sys


def final_loss(path, last=20):
    losses = [json.loads(line)["loss"] for line in open(path) if line.strip()]
    if len(losses) < last:
        sys.exit(f"{path}: {len(losses)} steps logged, need at least {last}")
    if any(not isinstance(x, (int, float)) for x in losses):
        sys.exit(f"{path}: a loss is not finite")
    return sum(losses[-last:]) / last


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", metavar="BF16_STDOUT BF16_JSONL [FP8_JSONL]")
    parser.add_argument("--gap", type=float, default=0.1)
    parser.add_argument("--rel", type=float, default=0.02)
    cli = parser.parse_args(argv)
    gap, rel, args = cli.gap, cli.rel, cli.files
    if len(args) not in (2, 3):
        parser.error("expected BF16_STDOUT BF16_JSONL [FP8_JSONL]")
    stdout, bf16 = args[0], args[1]
    match = re.search(r"entropy rate ([0-9.]+) nats/token", open(stdout).read())
    if not match:
        sys.exit(f"{stdout}: no 'entropy rate ... nats/token' line")
    floor = float(match.group(1))
    loss = final_loss(bf16)
    print(f"entropy floor {floor:.4f} nats; bf16 final loss {loss:.4f} (gap {loss - floor:.4f}, limit {gap})")
    ok = loss - floor <= gap
    if len(args) > 2:
        fp8 = final_loss(args[2])
        diff = abs(fp8 - loss) / loss
        print(f"fp8 final loss {fp8:.4f}: {100 * diff:.2f}% from bf16 (limit {100 * rel:.1f}%)")
        ok = ok and diff <= rel
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
