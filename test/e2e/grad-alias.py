#!/usr/bin/env python3
"""Helpers for grad-in-accumulator.test.

  grad-alias.py unalias IN.fp8prog OUT.fp8prog
      Moves every grad buffer "grad.X" that fp8c placed in the bytes of its accumulator
      "grad_accum.X" to bytes of its own above the arena (arena_bytes grows); nothing else
      changes. Prints how many grad buffers there are and how many were moved.
  grad-alias.py same-log A.jsonl B.jsonl
      PASS when the two --log files agree record by record, apart from the wall-clock
      fields (tokens_per_s, step_time_ms, achieved_tflops, mfu).
"""
import json
import re
import sys

ALIGN = 256
CLOCK = ("tokens_per_s", "step_time_ms", "achieved_tflops", "mfu")


def size(buffer):
    width = {"f32": 4, "i32": 4, "i64": 8, "bf16": 2, "f16": 2}.get(buffer["dtype"], 1)
    n = 1
    for d in buffer["shape"]:
        n *= d
    return n * width


def unalias(src, dst):
    # The text is edited, not re-serialised: the checkpoint header copies the program's
    # config as written, so the two programs must differ in offsets alone.
    text = open(src).read()
    program = json.loads(text)
    buffers = program["buffers"]
    accumulators = {b["name"]: b for b in buffers if b["role"] == "grad_accum"}
    grads = [b for b in buffers if b["role"] == "grad"]
    end = program["arena_bytes"]
    moved = 0
    for g in grads:
        a = accumulators.get("grad_accum." + g["name"][len("grad."):])
        if a is None or a["offset"] != g["offset"]:
            continue
        pattern = r'("name": ' + re.escape(json.dumps(g["name"])) + r',\s*"offset": )\d+'
        text, n = re.subn(pattern, lambda m: m.group(1) + str(end), text)
        assert n == 1, g["name"]
        end += (size(g) + ALIGN - 1) // ALIGN * ALIGN
        moved += 1
    text, n = re.subn(r'"arena_bytes": \d+', f'"arena_bytes": {end}', text, count=1)
    assert n == 1
    open(dst, "w").write(text)
    print(f"grad buffers: {len(grads)}, in their accumulators' bytes: {moved}")


def same_log(a, b):
    def records(path):
        out = []
        for line in open(path):
            r = json.loads(line)
            for k in CLOCK:
                r.pop(k, None)
            out.append(r)
        return out

    x, y = records(a), records(b)
    if x != y:
        for i, (p, q) in enumerate(zip(x, y)):
            if p != q:
                print(f"FAIL: record {i} differs:\n{p}\n{q}")
                return
        print(f"FAIL: {len(x)} records against {len(y)}")
        return
    print(f"PASS: {len(x)} records, nonfinite at the last step: {x[-1].get('nonfinite')}")


if __name__ == "__main__":
    {"unalias": unalias, "same-log": same_log}[sys.argv[1]](*sys.argv[2:])
