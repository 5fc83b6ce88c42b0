#!/usr/bin/env python3
"""Ctrl-C in a conversation (-cnv) with stdin on a terminal: it stops the
reply being generated and keeps the session; Ctrl-C at the prompt ends the
session with the timing block and status 130.

    conversation_ctrl_c.py EXE ARGS...

EXE ARGS must start a conversation whose -p turn gets a reply too long to
finish by itself. Turn 1 (-p) is interrupted mid-reply, turn 2 is typed on
the terminal and interrupted too, then Ctrl-C at the prompt ends it. Exits
non-zero with a report when a check fails.
"""
import os
import re
import signal
import subprocess
import sys
import time


class Run:
    def __init__(self, cmd):
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(cmd, stdin=slave, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        os.close(slave)
        self.out = b""

    def wait_for(self, what, pattern, start):
        """Reads stdout until `pattern` matches what came after `start`."""
        deadline = time.monotonic() + 120
        while not re.search(pattern, self.out[start:], re.S):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.fail("no %s on stdout (waited for %r)" % (what, pattern))
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                self.fail("stdout closed while waiting for %s" % what)
            self.out += chunk
        return len(self.out)

    def fail(self, why):
        if self.proc.poll() is None:
            self.proc.kill()
        out, err = self.proc.communicate()
        sys.exit("%s\nexit %s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            why, self.proc.returncode,
            (self.out + out).decode(errors="replace")[-600:],
            err.decode(errors="replace")))


def main():
    run = Run(sys.argv[1:])
    # Turn 1 (-p): its reply has started (40 bytes beyond the echoed turn).
    at = run.wait_for("reply 1", rb"^> [^\n]*\n.{40}", 0)
    run.proc.send_signal(signal.SIGINT)
    at = run.wait_for("the prompt after reply 1", rb"\n> $", at)
    if run.proc.poll() is not None:
        run.fail("Ctrl-C during reply 1 ended the session")
    os.write(run.master, b"The dog ran.\n")
    at = run.wait_for("reply 2", rb".{40}", at)
    run.proc.send_signal(signal.SIGINT)
    at = run.wait_for("the prompt after reply 2", rb"\n> $", at)
    # At the prompt: the session ends.
    run.proc.send_signal(signal.SIGINT)
    try:
        out, err = run.proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        run.fail("still running 60 s after Ctrl-C at the prompt")
    os.close(run.master)
    out = run.out + out
    text = err.decode(errors="replace")
    report = "exit %s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
        run.proc.returncode, out.decode(errors="replace")[-600:], text)
    failures = []
    if run.proc.returncode != 130:
        failures.append("expected exit status 130")
    if not out.endswith(b"\n"):
        failures.append("stdout does not end the line")
    if text.count("reply interrupted (Ctrl-C)") != 2:
        failures.append("expected two interrupted replies")
    # Turn 2 went on from the cache: evaluated after what turn 1 left.
    turns = re.findall(r"turn (\d): prompt eval (\d+) tokens at positions "
                       r"(\d+) to (\d+)", text)
    if len(turns) != 2 or int(turns[1][2]) <= int(turns[0][3]):
        failures.append("turn 2 did not continue the cache: %r" % turns)
    for line in ("load time", "prompt eval time", "eval time",
                 "sampling time", "total time"):
        if not re.search(r"smepilot-run: +%s = +[0-9.]+ ms" % line, text):
            failures.append("no '%s' line on stderr" % line)
    if "error" in text:
        failures.append("an error on stderr")
    if failures:
        sys.exit("; ".join(failures) + "\n" + report)


if __name__ == "__main__":
    main()
