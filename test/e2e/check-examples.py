#!/usr/bin/env python3
"""Compiles every examples/*.yaml with fp8c and loads the program with fp8-run --describe
(nothing is trained: gpt2-small's and llama-1b's arenas are GiBs).

  check-examples.py EXAMPLES_DIR FP8C FP8RUN OUT_DIR

For each model: fp8c succeeds; --describe succeeds; its info line repeats the YAML's
family, batch_size, seq_len, vocab_size and grad_accum_steps (read from the YAML text
here); the functions are train_step, eval_step and logits_step, plus accumulate_step exactly when
grad_accum_steps > 1; with fp8.enabled the program has FP8 GEMMs in train_step, without
it none. One line per model, then PASS or FAIL.
"""
import glob
import os
import re
import subprocess
import sys


def yaml_value(text, section, key):
    # the examples are two-level mappings: "section:" then "  key: value  # comment"
    match = re.search(rf"^{section}:\n(?:(?:[ #].*)?\n)*?  {key}: *([^ #\n]+)", text, re.M)
    return match.group(1) if match else None


def check(path, fp8c, fp8run, out_dir):
    name = os.path.basename(path)
    text = open(path).read()
    program = os.path.join(out_dir, name + ".fp8prog")
    compiled = subprocess.run([fp8c, path, "-o", program], capture_output=True, text=True)
    if compiled.returncode != 0:
        return f"{name}: fp8c failed: {compiled.stderr.strip()[:500]}"
    described = subprocess.run([fp8run, "--describe", program], capture_output=True, text=True)
    if described.returncode != 0:
        return f"{name}: fp8-run --describe failed: {described.stderr.strip()[:500]}"
    lines = described.stdout.splitlines()
    info = next((l for l in lines if l.startswith("info: ")), "")
    accum = int(yaml_value(text, "train", "grad_accum_steps") or 1)
    for key, section in (("family", "model"), ("batch_size", "train"), ("seq_len", "model"),
                         ("vocab_size", "model"), ("grad_accum_steps", "train")):
        value = yaml_value(text, section, key) or ("1" if key == "grad_accum_steps" else None)
        if value is None or not re.search(rf"\b{key} {value}\b", info):
            return f"{name}: info line '{info}' does not say {key} {value}"
    functions = sorted(m.group(1) for l in lines
                       for m in [re.match(r"  (\w+_step): \d+ instructions", l)] if m)
    expected = sorted(["train_step", "eval_step", "logits_step"] +
                      (["accumulate_step"] if accum > 1 else []))
    if functions != expected:
        return f"{name}: functions {functions}, expected {expected}"
    fp8 = yaml_value(text, "fp8", "enabled") == "true"
    gemms = sum(1 for l in lines if l.startswith("  train_step: ") and " f8e" in l)
    if fp8 != (gemms > 0):
        return f"{name}: fp8.enabled {fp8} but {gemms} FP8 GEMMs in train_step"
    return (f"{name}: ok: {info[len('info: '):].split(',')[0]}, grad_accum_steps {accum}, "
            f"{' '.join(functions)}, {gemms} FP8 GEMMs in train_step")


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    examples, fp8c, fp8run, out_dir = argv
    os.makedirs(out_dir, exist_ok=True)
    paths = sorted(glob.glob(os.path.join(examples, "*.yaml")))
    if not paths:
        sys.exit(f"no *.yaml in {examples}")
    ok = True
    for path in paths:
        line = check(path, fp8c, fp8run, out_dir)
        print(line)
        ok = ok and ": ok: " in line
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
