#!/usr/bin/env python3
"""Ctrl-C during generation: smepilot-run stops at the next token, ends the
line, prints the timing block and exits 130 (as llama-cli does).

    sigint.py FULL_RUNS EXE ARGS...

Starts EXE ARGS (a run of FULL_RUNS decode steps if left alone, long enough
not to finish by itself), waits until
more than the echoed prompt has arrived on stdout (generation has started),
sends SIGINT and checks the exit status, stdout and stderr. Exits non-zero
with a report when a check fails.
"""
import os
import re
import signal
import subprocess
import sys
import time


def main():
    full_runs = int(sys.argv[1])
    cmd = sys.argv[2:]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = b""
    deadline = time.monotonic() + 120
    # The prompt is echoed first: wait for generated text beyond it.
    while len(seen) < 40:
        if time.monotonic() > deadline:
            proc.kill()
            sys.exit("no generated text after 120 s")
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
    if proc.poll() is not None:
        sys.exit("the run ended before it could be interrupted (exit %s): "
                 "make it longer" % proc.returncode)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        sys.exit("still running 60 s after SIGINT")
    out = seen + out
    text = err.decode(errors="replace")
    report = "exit %s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
        proc.returncode, out.decode(errors="replace")[-400:], text)
    failures = []
    if proc.returncode != 130:
        failures.append("expected exit status 130")
    if not out.endswith(b"\n"):
        failures.append("stdout does not end the line")
    for line in ("load time", "prompt eval time", "eval time",
                 "sampling time", "total time"):
        if not re.search(r"smepilot-run: +%s = +[0-9.]+ ms" % line, text):
            failures.append("no '%s' line on stderr" % line)
    runs = re.search(r"eval time = +[0-9.]+ ms / +([0-9]+) runs", text)
    if runs and int(runs.group(1)) >= full_runs:
        failures.append("the run was not cut short")
    if "error" in text:
        failures.append("an error on stderr")
    if failures:
        sys.exit("; ".join(failures) + "\n" + report)


if __name__ == "__main__":
    main()
