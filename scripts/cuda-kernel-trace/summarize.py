#!/usr/bin/env python3
"""Summarises a ktrace file (ktrace.cpp) of `jetchat-cli bench`: splits it into decode steps (the kernels from one
embedding kernel to the next), keeps the last 40 steps of the most common length, and prints per kernel the
count, time and gap before it per step (negative gaps: kernels overlapping, as under a dependent launch), and the
time between steps."""
import collections
import re
import subprocess
import sys


def main(path):
    kernels = sorted((int(s), int(e), n.strip()) for s, e, n in (line.split(" ", 2) for line in open(path)))
    names = sorted({k[2] for k in kernels})
    demangled = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True).stdout.split("\n")
    short = {n: re.sub(r"jetchat::cuda::|\(anonymous namespace\)::", "", d).split("(")[0][:80]
             for n, d in zip(names, demangled)}
    steps, current = [], []
    for k in kernels:
        if "embed" in k[2] and current:
            steps.append(current)
            current = []
        current.append(k)
    steps.append(current)
    length = collections.Counter(len(s) for s in steps).most_common(1)[0][0]
    decode = [s for s in steps if len(s) == length][-40:]
    span = sum(s[-1][1] - s[0][0] for s in decode) / len(decode) / 1e3
    print(f"{len(decode)} decode steps of {length} kernels, {span:.1f} us from first start to last end")
    # The host's share of a token: from a step's last kernel (the sampling) to the next step's first.
    between = [b[0][0] - a[-1][1] for a, b in zip(steps, steps[1:]) if len(a) == length and len(b) == length][-40:]
    if between:
        print(f"{sum(between) / len(between) / 1e3:.1f} us between a step's last kernel and the next step's first")
    per_kind = collections.defaultdict(lambda: [0, 0.0, 0.0])
    for i in range(length):
        duration = sum(s[i][1] - s[i][0] for s in decode) / len(decode) / 1e3
        gap = sum(s[i][0] - s[i - 1][1] for s in decode) / len(decode) / 1e3 if i else 0.0
        kind = per_kind[short[decode[0][i][2]]]
        kind[0] += 1
        kind[1] += duration
        kind[2] += gap
    print(f"{'kernel':80s} {'count':>5s} {'us/step':>9s} {'gap us':>8s} {'us each':>8s}")
    for name, (count, duration, gap) in sorted(per_kind.items(), key=lambda x: -x[1][1]):
        print(f"{name:80s} {count:5d} {duration:9.1f} {gap:8.1f} {duration / count:8.2f}")


if __name__ == "__main__":
    main(sys.argv[1])
