#!/usr/bin/env python3
"""Runs smepilot-server against the official openai npm client.

  run_client_test.py npm-ci CLIENT_SRC WORK
      Copies package.json and package-lock.json to WORK and runs `npm ci`
      there (never in the source tree). Fails, saying so, when npm cannot
      install the locked packages (no network, no registry): the client test
      must not pass without its client.
  run_client_test.py run CLIENT_SRC WORK MODE SERVER -- SERVER_ARGS...
      Starts SERVER with SERVER_ARGS and --port 0 on loopback, waits for its
      "listening on" line and /health, runs `node client.mjs URL MODE [KEY]`
      from WORK, then stops the server with SIGTERM and checks that it exits
      0. The server and the client die with this script (PR_SET_PDEATHSIG),
      and are killed on any failure: no orphan is left.

Exit 0 when everything passed, 1 otherwise, with the server's log printed.
"""
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request

NPM_TIMEOUT = 600
START_TIMEOUT = 300  # the jit engine compiles the model first
CLIENT_TIMEOUT = 600


def fail(message):
    print(f"run_client_test: error: {message}", flush=True)
    sys.exit(1)


def die_with_parent():
    """In the child: SIGKILL when this script ends, however it ends."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def npm_ci(client_src, work):
    os.makedirs(work, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(os.path.join(client_src, name), os.path.join(work, name))
    npm = shutil.which("npm")
    if not npm:
        fail("npm is not installed (scripts/setup.sh installs Node.js and npm)")
    command = [npm, "ci", "--no-audit", "--no-fund", "--fetch-retries=2",
               "--fetch-timeout=60000"]
    try:
        done = subprocess.run(command, cwd=work, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              timeout=NPM_TIMEOUT, preexec_fn=die_with_parent)
    except subprocess.TimeoutExpired:
        fail(f"npm ci did not finish in {NPM_TIMEOUT} s (is the npm registry "
             "reachable?); the openai client test cannot run without it")
    print(done.stdout, end="")
    if done.returncode != 0:
        fail(f"npm ci failed with status {done.returncode} (is the npm "
             "registry reachable?); the openai client test cannot run "
             "without the locked openai package")
    package = os.path.join(work, "node_modules", "openai", "package.json")
    with open(package) as f:
        version = json.load(f)["version"]
    if not version.startswith("4."):
        fail(f"npm installed openai {version}, not 4.x")
    print(f"run_client_test: openai {version} installed in {work}")


def run(client_src, work, mode, server, server_args):
    if not os.path.isdir(os.path.join(work, "node_modules", "openai")):
        fail(f"{work}/node_modules/openai is missing: the npm-ci step did "
             "not run or failed")
    shutil.copyfile(os.path.join(client_src, "client.mjs"),
                    os.path.join(work, "client.mjs"))
    node = shutil.which("node") or fail("node is not installed")
    api_key = None
    if "--api-key" in server_args:
        api_key = server_args[server_args.index("--api-key") + 1]
    if "--api-key-file" in server_args:
        with open(server_args[server_args.index("--api-key-file") + 1]) as f:
            api_key = f.readline().rstrip("\r\n")

    command = [server] + server_args + ["--host", "127.0.0.1", "--port", "0"]
    print("run_client_test: starting " + " ".join(command), flush=True)
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, preexec_fn=die_with_parent)
    log = []
    listening = threading.Event()
    url = []

    def read_log():
        for line in proc.stderr:
            log.append(line)
            m = re.search(r"listening on (http://\S+:\d+)", line)
            if m and not url:
                url.append(m.group(1))
                listening.set()
        listening.set()  # the server ended

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    ok = False
    try:
        if not listening.wait(START_TIMEOUT) or not url:
            raise RuntimeError(
                f"the server did not start listening (status {proc.poll()})")
        base = url[0]
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=5) as r:
                    if r.status == 200 and json.load(r)["status"] == "ok":
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("/health did not answer 200")
            time.sleep(0.1)
        client = [node, "client.mjs", base, mode] + ([api_key] if api_key else [])
        done = subprocess.run(client, cwd=work, timeout=CLIENT_TIMEOUT,
                              preexec_fn=die_with_parent)
        if done.returncode != 0:
            raise RuntimeError(f"the openai client failed (status {done.returncode})")
        # A clean stop: SIGTERM, status 0.
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=30)
        if status != 0:
            raise RuntimeError(f"the server exited with status {status} after SIGTERM")
        ok = True
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(f"run_client_test: error: {e}", flush=True)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
        if not ok:
            print("run_client_test: the server's log:\n" + "".join(log), flush=True)
    if not ok:
        sys.exit(1)
    print("run_client_test: passed")


def main(argv):
    if len(argv) >= 3 and argv[0] == "npm-ci":
        npm_ci(argv[1], argv[2])
    elif len(argv) >= 5 and argv[0] == "run":
        rest = argv[5:]
        if rest and rest[0] == "--":
            rest = rest[1:]
        run(argv[1], argv[2], argv[3], argv[4], rest)
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
