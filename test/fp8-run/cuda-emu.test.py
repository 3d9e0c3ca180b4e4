"""Compares the per-step losses of two fp8-run JSONL logs: within 1e-4 relative."""
import argparse
import json

parser = argparse.ArgumentParser()
parser.add_argument("cpu")
parser.add_argument("emulator")
args = parser.parse_args()


def losses(path):
    with open(path) as f:
        return [json.loads(line)["loss"] for line in f if line.strip()]


cpu, emu = losses(args.cpu), losses(args.emulator)
assert len(cpu) == len(emu) and cpu, f"{len(cpu)} cpu steps, {len(emu)} cuda-emu steps"
ok = True
for step, (c, e) in enumerate(zip(cpu, emu), start=1):
    print(f"step {step}: cpu {c:.9f}, cuda-emu {e:.9f}")
    ok = ok and abs(c - e) <= 1e-4 * abs(c)
print("PASS" if ok else "FAIL")
