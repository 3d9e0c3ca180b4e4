#!/usr/bin/env python3
"""Delayed scaling across ranks: check-amax-max.py JOB A B.

JOB is a checkpoint of one step on W ranks, A and B checkpoints of one step of one process
on the micro-batches the ranks trained on (same initial weights and scales). Every amax
history of JOB has, as its newest entry, the largest of A's and B's newest entries
(exactly: a max of the same f32 amaxes), so every rank pushed the job's amax. Prints the
number of histories compared, how many took their amax from B, and PASS or FAIL."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_read  # noqa: E402


def main():
    job, a, b = (safetensors_read.load(p) for p in sys.argv[1:4])
    names = [n for n in sorted(job) if n.startswith("fp8.amax_history.")]
    ok, from_b = bool(names), 0
    for name in names:
        newest, ea, eb = job[name][2][0], a[name][2][0], b[name][2][0]
        if newest != max(ea, eb):
            print(f"{name}: {newest} is not max({ea}, {eb})")
            ok = False
        from_b += eb > ea
    print(f"{len(names)} histories, {from_b} from the second micro-batch")
    print("PASS" if ok else "FAIL")


if __name__ == "__main__":
    main()
