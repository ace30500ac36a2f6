#!/usr/bin/env python3
"""Time several commands round-robin, so a loaded, shared machine weighs on each alike.

Usage: bench/interleave.py RUNS NAME PREPARE COMMAND [NAME PREPARE COMMAND ...]

Each round runs every case once, in order: its PREPARE (untimed; may be empty), then its
COMMAND (timed: wall clock, and the user + system CPU time of its process tree). NAME is the
path of the JSON file written for the case, in hyperfine's --export-json layout (median, mean,
min, max, times, user, system), so bench/report.py reads it as it reads hyperfine's. A case whose
command or preparation fails stops being run; its file is not written and the reason is printed
on stderr. Exit status: 0, whatever the cases did.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime, r.ru_stime


def main():
    if len(sys.argv) < 5 or (len(sys.argv) - 2) % 3:
        sys.exit("usage: interleave.py RUNS NAME PREPARE COMMAND [NAME PREPARE COMMAND ...]")
    runs = int(sys.argv[1])
    cases = [{"name": sys.argv[i], "prepare": sys.argv[i + 1], "command": sys.argv[i + 2],
              "times": [], "user": [], "system": [], "failed": None}
             for i in range(2, len(sys.argv), 3)]
    for _ in range(runs):
        for c in cases:
            if c["failed"]:
                continue
            if c["prepare"]:
                p = subprocess.run(["bash", "-c", c["prepare"]], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
                if p.returncode:
                    c["failed"] = "preparation failed: " + p.stderr.strip()[-300:]
                    continue
            u0, s0 = children_cpu()
            t0 = time.perf_counter()
            p = subprocess.run(["bash", "-c", c["command"]], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
            t = time.perf_counter() - t0
            u1, s1 = children_cpu()
            if p.returncode:
                c["failed"] = "exit %d: %s" % (p.returncode, p.stderr.strip()[-300:])
                continue
            c["times"].append(t)
            c["user"].append(u1 - u0)
            c["system"].append(s1 - s0)
    for c in cases:
        if c["failed"] or not c["times"]:
            print("%s: %s" % (c["name"], c["failed"] or "no run"), file=sys.stderr)
            continue
        result = {"command": c["command"], "mean": statistics.mean(c["times"]),
                  "median": statistics.median(c["times"]), "min": min(c["times"]),
                  "max": max(c["times"]), "times": c["times"],
                  "user": statistics.mean(c["user"]), "system": statistics.mean(c["system"]),
                  "interleaved": True}
        with open(c["name"], "w") as f:
            json.dump({"results": [result]}, f)


if __name__ == "__main__":
    main()
