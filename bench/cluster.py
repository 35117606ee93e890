"""Servers on one Redis, for the many-processes scenario: a Redis of the run's own, N processes.

Every server is pinned to the server core, like every other server of the
benchmark (the load generator has the other one): on a two-core machine the
scenario measures what the queue costs and how fan-out holds up as the
sockets spread over processes, not how it scales with cores.

The Redis is started on a free port without persistence (never the shared
one: other programs on it would hear the benchmark's messages, and it theirs).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from flask_sockpub.testing import free_port

from . import loadgen, processes
from .launcher import Server, running_server

Progress = Callable[[str], None]


@contextmanager
def own_redis(timeout: float = 10.0) -> Iterator[str]:
    """``redis-server`` on a free port until the block ends; its URL."""
    import socket

    port = free_port()
    process = processes.start(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server is not answering on port {port}") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        processes.stop(process)


@contextmanager
def running_servers(count: int, queue_url: str) -> Iterator[list[Server]]:
    """``count`` of our servers (gevent, pinned to the server core) joined by ``queue_url``."""
    with ExitStack() as stack:
        servers = [
            stack.enter_context(
                running_server("ours", "gevent", env={"SOCKPUB_MESSAGE_QUEUE": queue_url})
            )
            for _ in range(count)
        ]
        yield servers


def many_processes(
    counts: tuple[int, ...], subscribers: int, rounds: int, warmup_rounds: int, progress: Progress
) -> dict[str, Any]:
    """Fan-out through Redis with 1, 2, 3... processes: deliveries per second, by process count.

    For each count, that many of our servers (gevent) on one Redis of the
    run's own; ``subscribers`` sockets spread evenly over them list
    ``/item`` (the class room of the process holding each); one more socket,
    on the first process, posts ``rounds`` items, and each create reaches
    the others through Redis.
    """
    results: dict[str, Any] = {}
    with own_redis() as queue_url:
        for count in counts:
            try:
                with running_servers(count, queue_url) as servers:
                    result = loadgen.run(
                        {
                            "kind": "fanout", "urls": [server.url for server in servers],
                            "subscribers": subscribers, "subscribe": "blueprint",
                            "event": "message", "rounds": rounds, "warmup_rounds": warmup_rounds,
                            "round_timeout_s": 15, "pause_ms": 100,
                            "deadline_s": 120 + subscribers * 0.03 + (rounds + warmup_rounds) * 3,
                        }
                    )  # fmt: skip
            except RuntimeError as exc:  # a LoadgenError, or a server that did not start
                result = {"error": str(exc)}
            results[str(count)] = result
            progress(f"many processes, {count}: {brief(result)}")
    return results


def brief(result: dict[str, Any]) -> str:
    """One progress line's worth of a many-processes result."""
    if "error" in result:
        return f"FAILED: {result['error'][:300]}"
    done = result["all_delivered"]
    return (
        f"{result['deliveries_per_s']:,.0f} deliveries/s, all delivered p50 {done['p50_ms']:.1f} ms, "
        f"p99 {done['p99_ms']:.1f} ms, {result['missing']} missing"
    )
