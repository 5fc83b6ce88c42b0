#!/usr/bin/env python3
"""Runs smepilot-bench once and checks the shape of what it printed.

  check_bench.py EXE FORMAT EXPECT -- ARGS...

FORMAT is md, csv or json (what -o in ARGS asks for). EXPECT lists the rows
the run must print, in order, as ';'-separated MODEL_FILENAME/ENGINE/THREADS/
TEST items (e.g. "stories260K.gguf/reference/1/pp8;..."). Every number must be
positive; the JSON and CSV means must be the means of their samples. No
timing is asserted beyond "greater than zero".
"""
import csv
import io
import json
import math
import os
import re
import subprocess
import sys


def fail(message, proc=None):
    if proc is not None:
        message += "\n--- stdout ---\n%s\n--- stderr ---\n%s" % (proc.stdout, proc.stderr)
    sys.exit("check_bench: " + message)


def check_stats(where, samples_ns, avg_ts, stddev_ts, n_tokens, repetitions):
    if len(samples_ns) != repetitions:
        fail("%s: %d samples, expected %d (-r)" % (where, len(samples_ns), repetitions))
    if any(not isinstance(ns, int) or ns <= 0 for ns in samples_ns):
        fail("%s: samples_ns must be positive integers: %r" % (where, samples_ns))
    ts = [n_tokens * 1e9 / ns for ns in samples_ns]
    mean = sum(ts) / len(ts)
    sd = math.sqrt(sum((x - mean) ** 2 for x in ts) / (len(ts) - 1)) if len(ts) > 1 else 0.0
    if not avg_ts > 0:
        fail("%s: avg_ts %r is not positive" % (where, avg_ts))
    if not math.isclose(avg_ts, mean, rel_tol=1e-4):
        fail("%s: avg_ts %r is not the mean %r of the samples" % (where, avg_ts, mean))
    if not math.isclose(stddev_ts, sd, rel_tol=1e-3, abs_tol=1e-3):
        fail("%s: stddev_ts %r is not the samples' %r" % (where, stddev_ts, sd))


def n_tokens_of(test):
    m = re.fullmatch(r"(?:pp(\d+))?\+?(?:tg(\d+))?", test)
    if not m or not (m.group(1) or m.group(2)):
        fail("bad test name %r" % test)
    return int(m.group(1) or 0) + int(m.group(2) or 0)


def main():
    exe, fmt, expect = sys.argv[1:4]
    assert sys.argv[4] == "--"
    args = sys.argv[5:]
    expected = [tuple(item.split("/")) for item in expect.split(";")]
    repetitions = int(args[args.index("-r") + 1])
    proc = subprocess.run([exe] + args, capture_output=True, text=True)
    if proc.returncode != 0:
        fail("exit %d" % proc.returncode, proc)
    if proc.stderr and "--progress" not in args:
        fail("stderr must be empty without --progress", proc)

    rows = []
    if fmt == "json":
        try:
            records = json.loads(proc.stdout)
        except json.JSONDecodeError as e:
            fail("stdout is not JSON: %s" % e, proc)
        for r in records:
            where = "%s %s t%d %s" % (r["model_filename"], r["engine"], r["n_threads"], r["test"])
            if r["build"] != version or not r["cpu_info"] or r["n_cpus"] < 1:
                fail("%s: build/machine fields wrong: %r" % (where, r))
            for key in ("model_size", "model_n_params", "n_batch", "n_ctx", "load_ns", "avg_ns"):
                if not (isinstance(r[key], int) and r[key] > 0):
                    fail("%s: %s = %r is not a positive integer" % (where, key, r[key]))
            if r["adaptive"] != ("--adaptive" not in args or
                                 args[args.index("--adaptive") + 1] == "on"):
                fail("%s: adaptive = %r, not what --adaptive asked" % (where, r["adaptive"]))
            if r["n_prompt"] + r["n_gen"] != n_tokens_of(r["test"]):
                fail("%s: n_prompt + n_gen does not match the test name" % where)
            if r["n_ctx"] < r["n_prompt"] + r["n_gen"]:
                fail("%s: n_ctx %d is too small for the test" % (where, r["n_ctx"]))
            check_stats(where, r["samples_ns"], r["avg_ts"], r["stddev_ts"],
                        n_tokens_of(r["test"]), repetitions)
            rows.append((os.path.basename(r["model_filename"]), r["engine"],
                         str(r["n_threads"]), r["test"]))
    elif fmt == "csv":
        reader = csv.DictReader(io.StringIO(proc.stdout))
        for r in reader:
            where = "%s %s t%s %s" % (r["model_filename"], r["engine"], r["n_threads"], r["test"])
            if r["build"] != version or not r["cpu_info"] or int(r["n_cpus"]) < 1:
                fail("%s: build/machine fields wrong: %r" % (where, r))
            samples = [int(x) for x in r["samples_ns"].split(";")]
            check_stats(where, samples, float(r["avg_ts"]), float(r["stddev_ts"]),
                        n_tokens_of(r["test"]), repetitions)
            if int(r["load_ns"]) <= 0 or int(r["avg_ns"]) <= 0:
                fail("%s: load_ns/avg_ns not positive" % where, proc)
            rows.append((os.path.basename(r["model_filename"]), r["engine"], r["n_threads"],
                         r["test"]))
    else:
        lines = proc.stdout.splitlines()
        if len(lines) < 3:
            fail("expected a header, a rule and rows", proc)
        cells = lambda line: [c.strip() for c in line.strip().strip("|").split("|")]
        header = cells(lines[0])
        if header[:5] != ["model", "size", "params", "engine", "threads"] or \
                header[-2:] != ["test", "t/s"]:
            fail("unexpected header %r" % header, proc)
        if not all(re.fullmatch(r"-+:?", c) for c in cells(lines[1])):
            fail("the second line is not a markdown rule", proc)
        widths = {len(line) for line in lines}
        for line in lines[2:]:
            c = cells(line)
            if len(c) != len(header):
                fail("row %r has %d cells, the header %d" % (line, len(c), len(header)), proc)
            if not re.fullmatch(r"\w+ [0-9.]+[KMB]? [A-Z0-9_]+", c[0]):
                fail("model cell %r is not 'ARCH PARAMS TYPE'" % c[0], proc)
            if not re.fullmatch(r"[0-9.]+ [MG]iB", c[1]) or not re.fullmatch(r"[0-9.]+ [KMB]", c[2]):
                fail("size/params cells %r %r" % (c[1], c[2]), proc)
            m = re.fullmatch(r"([0-9.]+) ± ([0-9.]+)", c[-1])
            if not m or not float(m.group(1)) > 0:
                fail("t/s cell %r is not a positive 'mean ± stddev'" % c[-1], proc)
            if repetitions == 1 and float(m.group(2)) != 0:
                fail("one repetition must have stddev 0: %r" % c[-1], proc)
            n_tokens_of(c[-2])
            rows.append((None, c[3], c[4], c[-2]))
        if len(widths) != 1:
            fail("the table's lines are not aligned: widths %r" % widths, proc)
        expected = [(None,) + e[1:] for e in expected]

    if rows != expected:
        fail("rows %r, expected %r" % (rows, expected), proc)
    print("ok: %d rows" % len(rows))


version = None
if __name__ == "__main__":
    out = subprocess.run([sys.argv[1], "--version"], capture_output=True, text=True).stdout
    m = re.fullmatch(r"smepilot-bench (\S+)\n", out)
    if not m:
        fail("--version printed %r" % out)
    version = m.group(1)
    main()
