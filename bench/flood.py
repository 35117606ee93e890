"""A bystander's latency while one socket floods: ``python -m bench.flood``.

Serves bench/app.py with :mod:`bench.serve` (gevent by default, pinned to CPU
0, gevent-websocket hidden as the deployment docs recommend). On CPU 1 a
bystander socket sends ``GET /echo`` requests one after the other and times
each answer, in rounds: an idle window, then a window in which a flooder
socket (another process) writes 3,000 pipelined ``GET /echo`` requests at once
and reads their answers. It prints the bystander's p50/p99 latency in both
windows, their ratio (the goal: p99 under flood within 5 times the idle p99),
and how the flooder was answered (200s and 429s)::

    python -m bench.flood                      # gevent, 3,000 requests, 10 rounds
    python -m bench.flood --rounds 20 --async-mode threading
    FLASK_SOCKPUB_MAX_REQUESTS_IN_FLIGHT=100000 python -m bench.flood   # no in-flight cap

``FLASK_*`` variables reach the app's config (``app.config.from_prefixed_env``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import websocket

from flask_sockpub.testing import free_port, wait_until_listening

from . import processes
from .serve import WEBSOCKET_CHOICES

SERVER_CPU = 0
CLIENT_CPU = 1


class Server:
    """bench/app.py served by bench.serve in a subprocess, for :func:`wait_until_listening`."""

    def __init__(self, async_mode: str, port: int, websocket_server: str) -> None:
        command = processes.pinned(
            SERVER_CPU,
            [sys.executable, "-m", "bench.serve", "bench.app:create_app", "--async-mode", async_mode,
             "--port", str(port), "--websocket", websocket_server],
        )  # fmt: skip
        self.log_file = tempfile.NamedTemporaryFile(prefix="sockpub-flood-", suffix=".log")  # noqa: SIM115
        self.process = processes.start(command, stdout=self.log_file)

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log()}")

    def log(self) -> str:
        self.log_file.flush()
        return Path(self.log_file.name).read_text(errors="replace")


def connect(url: str) -> websocket.WebSocket:
    """A Socket.IO connection (namespace ``/``) over a WebSocket, spoken by hand."""
    ws = websocket.create_connection(url + "/socket.io/?EIO=4&transport=websocket", timeout=60)
    ws.recv()  # Engine.IO open
    ws.send("40")
    ws.recv()  # Socket.IO connect
    return ws


def acks(ws: websocket.WebSocket, count: int) -> list[int]:
    """Read until ``count`` acknowledgements arrived; their status codes."""
    statuses: list[int] = []
    while len(statuses) < count:
        message = str(ws.recv())
        if message == "2":
            ws.send("3")
        elif message.startswith("43"):
            statuses.append(int(json.loads(message[message.index("[") :])[0]["statusCode"]))
    return statuses


def flooder(url: str, requests: int, pipe: Connection) -> None:
    """The flooding socket: on each message from ``pipe``, a flood; answers the status counts."""
    os.sched_setaffinity(0, {CLIENT_CPU})
    ws = connect(url)
    frames = [
        f'42{n}["get",{{"method":"GET","url":"/echo?message=flood"}}]' for n in range(requests)
    ]
    pipe.send("ready")
    while pipe.recv() == "flood":
        started = time.perf_counter()
        for frame in frames:
            ws.send(frame)
        sent = time.perf_counter()
        statuses = acks(ws, requests)
        counts = {status: statuses.count(status) for status in set(statuses)}
        pipe.send((counts, (sent - started) * 1000, (time.perf_counter() - started) * 1000))
    ws.close()


def timed_requests(ws: websocket.WebSocket, until: Any) -> list[float]:
    """Send ``GET /echo`` requests one at a time until ``until()`` is true; their latencies in ms."""
    latencies = []
    n = 0
    while not until():
        n += 1
        started = time.perf_counter()
        ws.send(f'42{n}["get",{{"method":"GET","url":"/echo?message=bystander"}}]')
        acks(ws, 1)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.flood", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--async-mode", choices=("gevent", "eventlet", "threading"), default="gevent"
    )
    parser.add_argument(
        "--websocket",
        choices=WEBSOCKET_CHOICES,
        default="simple-websocket",
        help="what serves WebSockets under gevent (default simple-websocket)",
    )
    parser.add_argument(
        "--requests", type=int, default=3000, help="pipelined requests per flood (3,000)"
    )
    parser.add_argument(
        "--rounds", type=int, default=10, help="idle windows and floods, alternating (10)"
    )
    parser.add_argument(
        "--idle-seconds", type=float, default=1.0, help="length of each idle window"
    )
    args = parser.parse_args(argv)
    processes.stop_children_on_exit()
    os.sched_setaffinity(0, {CLIENT_CPU})
    port = free_port()
    url = f"ws://127.0.0.1:{port}"
    server = Server(args.async_mode, port, args.websocket)
    wait_until_listening(server, "127.0.0.1", port, 60)
    ours, theirs = multiprocessing.Pipe()
    flood = multiprocessing.Process(target=flooder, args=(url, args.requests, theirs))
    flood.start()
    try:
        bystander = connect(url)
        assert ours.recv() == "ready"
        timed_requests(bystander, until=deadline(1.0))  # warm-up
        idle: list[float] = []
        flooded: list[float] = []
        answered: dict[int, int] = {}
        flood_ms: list[float] = []
        for _ in range(args.rounds):
            idle += timed_requests(bystander, until=deadline(args.idle_seconds))
            ours.send("flood")
            flooded += timed_requests(bystander, until=ours.poll)
            counts, send_ms, all_ms = ours.recv()
            for status, count in counts.items():
                answered[status] = answered.get(status, 0) + count
            flood_ms.append(all_ms)
        ours.send("stop")
        report(args, idle, flooded, answered, flood_ms)
        if os.environ.get("FLOOD_SHOW_LOG"):
            Path(os.environ["FLOOD_SHOW_LOG"]).write_text(server.log())
    finally:
        flood.join(10)
        processes.stop(server.process)


def deadline(seconds: float) -> Any:
    end = time.monotonic() + seconds
    return lambda: time.monotonic() >= end


def report(
    args: argparse.Namespace,
    idle: list[float],
    flooded: list[float],
    answered: dict[int, int],
    flood_ms: list[float],
) -> None:
    idle_p99, flood_p99 = percentile(idle, 0.99), percentile(flooded, 0.99)
    print(
        f"async mode {args.async_mode}; {args.rounds} floods of {args.requests} pipelined requests"
    )
    print(
        f"bystander idle:    {len(idle):6d} requests, p50 {statistics.median(idle):7.2f} ms, p99 {idle_p99:7.2f} ms"
    )
    print(
        f"bystander flooded: {len(flooded):6d} requests, p50 {statistics.median(flooded):7.2f} ms, "
        f"p99 {flood_p99:7.2f} ms, max {max(flooded):7.2f} ms"
    )
    print(f"p99 flooded / p99 idle: {flood_p99 / idle_p99:.1f}x (goal: within 5x)")
    print(
        "flooder answered: "
        + ", ".join(f"{count} x {status}" for status, count in sorted(answered.items()))
        + f"; each flood answered in {statistics.median(flood_ms):.0f} ms (median)"
    )


if __name__ == "__main__":
    main()
