"""The scale check: 10,000 sockets over 3 processes stay connected, and one publish reaches them all.

    python -m bench.scale            # --sockets 10000 --processes 3 --hold 60

Starts a Redis of its own, then the example cluster exactly as the
deployment docs start it (``python -m examples.cluster``: gunicorn, gevent
worker class, one worker per process), on free ports. The Node load
generator (bench/loadgen.js) connects the sockets over WebSocket, spread
evenly over the processes, and each lists ``/note`` (joining the class
room in the process holding it). Once the last one is in, they are held
``--hold`` seconds; then one socket on the first process posts a note
(``publish_create`` to the class room), and the time until the last socket
holds it is printed, with how many stayed connected and how many missed it.
The open-file limit is raised to its hard limit first, for this process and
the servers and generator it starts. Not part of the test command: it takes
about two minutes and most of the machine.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time
from typing import Any

from flask_sockpub.testing import free_port

from . import loadgen, processes
from .cluster import own_redis
from .serve import raise_file_limit


def start_cluster(
    count: int, queue_url: str, timeout: float = 120.0
) -> tuple[subprocess.Popen[str], list[str]]:
    """The example cluster on ``count`` consecutive free ports; the launcher and the URLs."""
    first = free_port()
    command = [
        sys.executable, "-m", "examples.cluster", "--processes", str(count), "--port", str(first),
        "--queue", queue_url,
    ]  # fmt: skip
    launcher = processes.start(command, stdout=subprocess.PIPE)
    output: list[str] = []

    def read() -> None:
        assert launcher.stdout is not None
        for line in launcher.stdout:
            output.append(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while "cluster ready" not in output:
        if launcher.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the cluster did not start:\n" + "\n".join(output))
        time.sleep(0.1)
    urls = [
        found[1] for line in output if (found := re.match(r"process \d+: pid \d+, (\S+)$", line))
    ]
    return launcher, urls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sockets", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument(
        "--hold", type=float, default=60.0, help="seconds held after the last connects"
    )
    args = parser.parse_args(argv)
    processes.stop_children_on_exit()
    limit = raise_file_limit()
    print(f"open-file limit: {limit}", flush=True)
    with own_redis() as queue_url:
        launcher, urls = start_cluster(args.processes, queue_url)
        try:
            print(f"cluster: {', '.join(urls)} on {queue_url}", flush=True)
            scenario: dict[str, Any] = {
                "kind": "fanout", "urls": urls, "subscribers": args.sockets, "subscribe": "blueprint",
                "event": "note", "path": "/note", "field": "text", "hold_s": args.hold,
                "warmup_rounds": 0, "rounds": 1, "round_timeout_s": 120, "pause_ms": 0,
                "deadline_s": args.hold + 600,
            }  # fmt: skip
            started = time.monotonic()
            result = loadgen.run(scenario)
            elapsed = time.monotonic() - started
        finally:
            processes.stop(launcher, timeout=60)
    held = result.get("held") or {}
    delivered = result["all_delivered"]
    print(json.dumps(result, indent=1))
    print(
        f"{args.sockets} sockets over {args.processes} processes: "
        f"{held.get('still_connected')} still connected after {args.hold:g} s "
        f"({held.get('dropped')} dropped); one publish_create: {result['missing']} missed, "
        f"last delivery {delivered.get('p50_ms')} ms after the post "
        f"(first {result['first_delivered'].get('p50_ms')} ms); whole run {elapsed:.0f} s",
        flush=True,
    )
    ok = (
        held.get("still_connected") == args.sockets
        and result["missing"] == 0
        and result["rounds"] == 1
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
