"""Instructions per socket request (and per HTTP request), counted by Valgrind: a figure the machine's load does not move.

CPU time per request (``bench/request_cost.py``) moves by 10-30% when other
processes share the machine; the number of instructions the interpreter runs
for one request does not (it repeats within 0.3%), so a change of 1% in the
request path can be measured on a busy machine. The same app and the same
requests as ``bench/request_cost.py``; each count runs the app under
``valgrind --tool=callgrind`` with counting switched on only around the
measured loop (``callgrind_control -i on``), twice (200 and 700 requests), and
the difference is divided by 500, so start-up and the switching cancel out.
About 45 s per path. Needs ``valgrind`` (Debian/Ubuntu package ``valgrind``).

    .venv/bin/python bench/request_instructions.py [--paths socket,http]
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

#: Requests of the short and the long run; their difference is what is counted.
SHORT, LONG = 200, 700
#: Requests made before counting starts (first-use allocations, caches).
WARMUP = 300
PATHS = ("socket", "http")


def count_in_this_process(path: str, requests: int) -> None:
    """Run under callgrind: warm up, then make ``requests`` requests with counting on."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.request_cost import make_app

    logging.disable(logging.CRITICAL)
    app = make_app()
    if path == "socket":
        socket = app.extensions["sockpub"].sockpub.test_client(app)

        def call() -> object:
            return socket.get("/echo", {"message": "hi"})
    else:
        http = app.test_client()

        def call() -> object:
            return http.get("/echo?message=hi")

    for _ in range(WARMUP):
        call()
    toggle = ["callgrind_control", "-i"]
    subprocess.run([*toggle, "on", str(os.getpid())], check=True, stdout=subprocess.DEVNULL)
    for _ in range(requests):
        call()
    subprocess.run([*toggle, "off", str(os.getpid())], check=True, stdout=subprocess.DEVNULL)


def instructions(path: str, requests: int) -> int:
    """Instructions callgrind counted for ``requests`` requests of ``path`` (plus the switching)."""
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null",
        sys.executable, __file__, "--count", path, str(requests),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", default=",".join(PATHS), help="socket, http or both")
    parser.add_argument("--count", nargs=2, metavar=("PATH", "REQUESTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count:
        count_in_this_process(args.count[0], int(args.count[1]))
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        parser.error("needs valgrind and callgrind_control (the valgrind package)")
    print(f"{'path':8} {'instructions/request':>21}")
    for path in args.paths.split(","):
        if path not in PATHS:
            parser.error(f"unknown path {path!r}; choose from {', '.join(PATHS)}")
        per_request = (instructions(path, LONG) - instructions(path, SHORT)) / (LONG - SHORT)
        print(f"{path:8} {per_request:21,.0f}", flush=True)


if __name__ == "__main__":
    main()
