"""Recompute is numerically identical to no recompute: for each model and FP8 recipe,
the same forward graph compiled without recompute and with fp8-recompute in each mode,
trained for a few steps on the CPU backend, gives byte-identical checkpoints.

usage: check-recompute.py FP8C FP8-OPT FP8-RUN WORKDIR STEPS MODEL.yaml:RECIPE[,RECIPE...][:BUDGET] ...

With BUDGET (e.g. 9000000B), mode auto under that budget too: a mix of selective values
and whole blocks.

The recompute modes go through fp8-opt (pass options) on the fp8 stage of the same
module, so the programs differ only in their instructions, not in train.config, and the
checkpoints (whose metadata holds train.config) can be compared with cmp as they are."""
import filecmp
import os
import re
import subprocess
import sys


TOOLS = {}


def run(tool, *args):
    subprocess.run([TOOLS[tool], *args], check=True, stdout=subprocess.DEVNULL)


def main():
    TOOLS.update(zip(["fp8c", "fp8-opt", "fp8-run"], sys.argv[1:4]))
    work, steps = sys.argv[4], sys.argv[5]
    os.makedirs(work, exist_ok=True)
    failures = 0
    for spec in sys.argv[6:]:
        model, recipes, *budget = spec.split(":")
        name = os.path.splitext(os.path.basename(model))[0]
        text = open(model).read()
        for recipe in recipes.split(","):
            base = os.path.join(work, f"{name}-{recipe}")
            yaml = re.sub(r"(?m)^(  recipe:) *\w+", r"\1 " + recipe, text)
            open(base + ".yaml", "w").write(yaml)
            run("fp8c", base + ".yaml", "--emit=fp8", "--mlir-print-debuginfo", "-o", base + ".mlir")
            checkpoints = {}
            modes = ["none", "selective", "full"] + (["auto"] if budget else [])
            for mode in modes:
                mlir = f"{base}.{mode}.mlir"
                option = f"mode={mode}" + (f" budget={budget[0]}" if mode == "auto" else "")
                run("fp8-opt", f"--fp8-recompute={option}", "--mlir-print-debuginfo",
                    base + ".mlir", "-o", mlir)
                prog = f"{base}.{mode}.fp8prog"
                run("fp8c", mlir, "-o", prog)
                ckpt = f"{base}.{mode}.ckpt"
                run("fp8-run", prog, "--backend=cpu", "--synthetic", f"--steps={steps}",
                    f"--save={ckpt}")
                checkpoints[mode] = ckpt
            for mode in modes[1:]:
                same = filecmp.cmp(checkpoints["none"], checkpoints[mode], shallow=False)
                print(f"{name} {recipe} {mode}: {'identical' if same else 'DIFFERENT'}")
                failures += not same
                if "fp8c.recompute" not in open(f"{base}.{mode}.mlir").read():
                    print(f"{name} {recipe} {mode}: nothing recomputed")
                    failures += 1
    print("PASS" if failures == 0 else "FAIL")


main()
