#!/usr/bin/env python3
"""Checks that two modules compute the same function results, op for op.

Usage: same-dag.py BEFORE AFTER, both printed with `--mlir-print-op-generic`.

Every function result is hashed as the expression DAG that computes it: each
op's name, properties, attributes and types, and the DAGs of its operands. An
`rt.fusion` is looked through: its block arguments are its operands and its
results are what its `rt.yield` gives, so fusing ops changes no hash, while a
lost, added, reordered-operand or altered op changes the hash of every result
that depends on it. Exits 1 and names the functions that differ.

This is independent of the C++ pass: it knows nothing of fusion rules, only
what rt.fusion means.
"""

import hashlib
import re
import sys

VALUE = re.compile(r"%[\w.$-]+(?:#\d+)?")
OP = re.compile(r'(?:(%[\w.$-]+)(?::(\d+))? = )?"([\w.]+)"\((.*?)\)(.*)$')


def parse(path):
    """Returns {function: [item]}, an item being ("args", names) for a block
    header, ("op", name, result, count, operands, rest) or ("fusion", result,
    count, operands, body items)."""
    funcs = {}
    stack = []
    for raw in open(path):
        line = raw.strip()
        if line.startswith('"func.func"'):
            name = re.search(r'sym_name = "([\w.$-]+)"', line).group(1)
            funcs[name] = []
            stack = [funcs[name]]
            continue
        if not stack:
            continue
        if line.startswith("^"):
            stack[-1].append(("args", re.findall(r"(%[\w.$-]+):", line)))
            continue
        if line.startswith("})") or line == "}":
            body = stack.pop()
            if stack:
                stack[-1][-1][4].extend(body)
            continue
        match = OP.match(line)
        if not match:
            continue
        result, count, name, operands, rest = match.groups()
        count = int(count) if count else (1 if result else 0)
        operands = VALUE.findall(operands)
        if name == "rt.fusion":
            stack[-1].append(("fusion", result, count, operands, []))
            stack.append([])
        else:
            stack[-1].append(("op", name, result, count, operands, rest))
    return funcs


def digest(text):
    return hashlib.sha1(text.encode()).hexdigest()


def evaluate(items, env):
    """Hashes every value of `items`; returns the hashes the terminator gives."""

    def lookup(value):
        base, _, index = value.partition("#")
        return env[(base, int(index) if index else 0)]

    for item in items:
        if item[0] == "op":
            _, name, result, count, operands, rest = item
            hashes = [lookup(v) for v in operands]
            if name in ("func.return", "rt.yield"):
                return hashes
            for k in range(count):
                env[(result, k)] = digest(f"{name}|{rest}|{k}|{','.join(hashes)}")
        elif item[0] == "fusion":
            _, result, count, operands, body = item
            args = next(i for i in body if i[0] == "args")[1]
            inner = {(a, 0): lookup(v) for a, v in zip(args, operands)}
            yielded = evaluate([i for i in body if i[0] != "args"], inner)
            for k in range(count):
                env[(result, k)] = yielded[k]
    raise SystemExit("no terminator found")


def function_results(path):
    out = {}
    for name, items in parse(path).items():
        args = next(i for i in items if i[0] == "args")[1]
        env = {(a, 0): f"arg{i}" for i, a in enumerate(args)}
        out[name] = evaluate([i for i in items if i[0] != "args"], env)
    return out


def main():
    before, after = function_results(sys.argv[1]), function_results(sys.argv[2])
    if before.keys() != after.keys():
        print(f"functions differ: {sorted(before)} vs {sorted(after)}")
        return 1
    status = 0
    for name in before:
        same = before[name] == after[name]
        print(f"{name}: {len(before[name])} results, {'same' if same else 'DIFFERENT'}")
        status |= not same
    return status


if __name__ == "__main__":
    sys.exit(main())
