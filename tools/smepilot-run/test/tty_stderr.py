#!/usr/bin/env python3
"""Runs a command with its stderr on a terminal (a pseudo-terminal) and
checks what it wrote there:

    tty_stderr.py REGEX EXE ARGS...      stderr must match REGEX
    tty_stderr.py '!'REGEX EXE ARGS...   stderr must not match REGEX

The command must exit 0. Progress displays only appear on a terminal, which
ctest never gives a test: this gives one.
"""
import os
import re
import subprocess
import sys


def main():
    pattern, cmd = sys.argv[1], sys.argv[2:]
    negate = pattern.startswith("!")
    if negate:
        pattern = pattern[1:]
    master, slave = os.openpty()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the terminal's last writer has gone
            break
        if not chunk:
            break
        err += chunk
    out = proc.stdout.read()
    rc = proc.wait()
    os.close(master)
    text = err.decode(errors="replace")
    report = "exit %d\n--- stdout ---\n%s\n--- stderr (terminal) ---\n%r" % (
        rc, out.decode(errors="replace"), text)
    if rc != 0:
        sys.exit("expected exit 0\n" + report)
    found = re.search(pattern, text, re.S) is not None
    if found == negate:
        sys.exit("stderr %s '%s'\n%s" % ("matches" if negate else
                                         "does not match", pattern, report))


if __name__ == "__main__":
    main()
