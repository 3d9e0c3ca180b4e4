#!/usr/bin/env python3
"""Checks a fine-tuning start (fp8-run --init-from=TRAINED): weights only, everything
else fresh.

  check-init-from.py TRAINED_CKPT TRAINED_JSONL DUMP1 CKPT1 JSONL1 --beta1 B1 --beta2 B2

TRAINED_* come from the first run; DUMP1 (--dump=1), CKPT1 (--save after one step) and
JSONL1 from the run started with --init-from=TRAINED_CKPT. Checked:
- the parameters before the new run's first update (DUMP1) are TRAINED_CKPT's, bit for bit;
- the step restarts: CKPT1's trainer.step is 1, JSONL1's first record is step 1 with the
  first run's step-1 learning rate (the schedule starts again, from warmup);
- the optimizer starts fresh: after one AdamW step from zero state,
  exp_avg = (1 - beta1) g and exp_avg_sq = (1 - beta2) g^2 for the gradient g the
  optimizer received (DUMP1's grad.*), to f32 rounding; continuing the old state would
  add beta1 * m_old;
- the loss starts at the trained level, not from scratch: the first loss of the new run
  is below half the first run's first loss and at most 1.25 x the mean of its last 10.
"""
import argparse
import json
import sys

import safetensors_read as st


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, allow_abbrev=False,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("trained_ckpt", "trained_jsonl", "dump1", "ckpt1", "jsonl1"):
        parser.add_argument(name)
    parser.add_argument("--beta1", type=float, required=True)
    parser.add_argument("--beta2", type=float, required=True)
    cli = parser.parse_args(argv)
    trained, dump, ckpt = st.load(cli.trained_ckpt), st.load(cli.dump1), st.load(cli.ckpt1)
    trained_log = [json.loads(l) for l in open(cli.trained_jsonl) if l.strip()]
    new_log = [json.loads(l) for l in open(cli.jsonl1) if l.strip()]
    ok = True

    params = [k for k in trained if not k.startswith(("optimizer.", "fp8.", "trainer."))]
    same = sum(1 for k in params if k in dump and dump[k][2] == trained[k][2])
    print(f"parameters loaded bit for bit: {same} of {len(params)}")
    ok = ok and same == len(params) and same > 0

    step = ckpt["trainer.step"][2][0]
    first = new_log[0]
    print(f"new run: trainer.step {step} after one step; first record step {first['step']}, "
          f"lr {first['lr']} (first run's step 1: {trained_log[0]['lr']})")
    ok = ok and step == 1 and first["step"] == 1 and first["lr"] == trained_log[0]["lr"]

    b1, b2 = cli.beta1, cli.beta2
    worst = 0.0
    moments = 0
    for name in params:
        grad = dump["grad." + name][2]
        for key, expected in (("optimizer.exp_avg.", [(1 - b1) * g for g in grad]),
                              ("optimizer.exp_avg_sq.", [(1 - b2) * g * g for g in grad])):
            got = ckpt[key + name][2]
            scale = max(abs(e) for e in expected) or 1.0
            worst = max(worst, max(abs(a - e) for a, e in zip(got, expected)) / scale)
            moments += 1
    print(f"optimizer state after one step from zero: {moments} moments, largest difference "
          f"{worst:.2g} of the tensor's largest element (limit 1e-6)")
    ok = ok and worst <= 1e-6 and moments > 0

    start = first["loss"]
    scratch = trained_log[0]["loss"]
    trained_level = sum(r["loss"] for r in trained_log[-10:]) / 10
    print(f"first loss {start:.4f}: first run started at {scratch:.4f}, ended at {trained_level:.4f} (mean of last 10)")
    ok = ok and start < 0.5 * scratch and start <= 1.25 * trained_level
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
