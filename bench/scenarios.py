"""What the benchmark measures on one running server, and how much of it (a :class:`Plan`)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from . import loadgen
from .launcher import Server

Progress = Callable[[str], None]
#: Longest wait for a server to go quiet after its sockets left, before the next measurement.
QUIET_TIMEOUT_S = 300.0
#: How each kind of server subscribes a socket to the item class room (see bench/loadgen.js).
SUBSCRIBE = {"ours": "blueprint", "floor": "event", "sails": "sails"}
#: The Socket.IO event a create is published under, where it is not "message".
CREATE_EVENT = {"sails": "item"}


@dataclass(frozen=True)
class Plan:
    """The counts and durations of one run."""

    concurrency: tuple[int, ...] = (1, 10, 50, 100)
    http_connections: tuple[int, ...] = (1, 50)
    subscribers: tuple[int, ...] = (100, 1000, 5000)
    rounds: int = 25
    warmup_rounds: int = 3
    warmup_s: float = 1.0
    duration_s: float = 4.0
    idle_sockets: int = 1000
    settle_s: float = 2.0
    #: Under threading every socket holds several OS threads: more subscribers are skipped.
    threading_max_subscribers: int = 1000
    #: The many-processes scenario (bench/cluster.py): process counts, and the
    #: subscribers spread over them.
    processes: tuple[int, ...] = (1, 2, 3)
    processes_subscribers: int = 1000

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


QUICK = Plan(
    concurrency=(1, 10, 50), http_connections=(1, 10), subscribers=(100, 300), rounds=5,
    warmup_rounds=1, warmup_s=0.3, duration_s=1.0, idle_sockets=200, settle_s=1.0,
    threading_max_subscribers=300, processes_subscribers=300,
)  # fmt: skip


class CpuWindow:
    """Samples the server's CPU time at the generator's start and end marks."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.samples: dict[str, tuple[float, float]] = {}

    def __call__(self, mark: dict[str, Any], process: subprocess.Popen[str]) -> None:
        self.samples[mark["name"]] = (self.server.cpu_seconds(), time.monotonic())

    def used(self) -> tuple[float, float]:
        """CPU seconds the server used between the marks, and the wall seconds."""
        (cpu0, wall0), (cpu1, wall1) = self.samples["start"], self.samples["end"]
        return cpu1 - cpu0, wall1 - wall0


def socket_requests(server: Server, sockets: int, plan: Plan) -> dict[str, Any]:
    """``get /echo?message=hi`` back to back on ``sockets`` sockets."""
    return _timed(server, {"kind": "requests", "sockets": sockets}, plan)


def http_requests(server: Server, connections: int, plan: Plan) -> dict[str, Any]:
    """``GET /echo?message=hi`` back to back on ``connections`` keep-alive connections."""
    return _timed(server, {"kind": "http", "connections": connections}, plan)


def _timed(server: Server, scenario: dict[str, Any], plan: Plan) -> dict[str, Any]:
    window = CpuWindow(server)
    result = loadgen.run(
        {
            **scenario, "url": server.url, "path": "/echo?message=hi",
            "warmup_s": plan.warmup_s, "duration_s": plan.duration_s,
            "deadline_s": plan.warmup_s + plan.duration_s + 60,
        },
        window,
    )  # fmt: skip
    cpu, wall = window.used()
    result["server_cpu_percent"] = round(cpu / wall * 100, 1)
    result["server_cpu_us_per_request"] = (
        cpu / result["requests"] * 1e6 if result["requests"] else None
    )
    return result


def fanout(server: Server, subscribers: int, plan: Plan) -> dict[str, Any]:
    """Time until all ``subscribers`` hold a create published by another socket."""
    window = CpuWindow(server)
    result = loadgen.run(
        {
            "kind": "fanout", "url": server.url, "subscribers": subscribers,
            "subscribe": SUBSCRIBE[server.kind], "event": CREATE_EVENT.get(server.kind, "message"),
            "rounds": plan.rounds, "warmup_rounds": plan.warmup_rounds,
            "round_timeout_s": 15, "pause_ms": 100,
            "deadline_s": 120 + subscribers * 0.03 + (plan.rounds + plan.warmup_rounds) * 3,
        },
        window,
    )  # fmt: skip
    cpu, _ = window.used()
    delivered = result["rounds"] * subscribers
    result["server_cpu_us_per_delivery"] = cpu / delivered * 1e6 if delivered else None
    result["quiet_after_close_s"] = round(server.wait_until_quiet(QUIET_TIMEOUT_S), 1)
    return result


def idle_memory(server: Server, plan: Plan) -> dict[str, Any]:
    """Server RSS added per connected idle socket.

    A few sockets connect and leave first (so lazy imports and first-use
    allocations are not counted), then, after a settle, RSS is read before
    and after ``plan.idle_sockets`` sockets connect. Then they leave, and the
    time until the server is quiet again is recorded.
    """
    loadgen.run(
        {"kind": "idle", "url": server.url, "sockets": 20, "hold_s": 10, "deadline_s": 60},
        lambda mark, process: loadgen.answer(process),
    )  # fmt: skip
    time.sleep(plan.settle_s)
    before = server.rss_kib()
    after: list[int] = []
    threads: list[int] = []

    def measure(mark: dict[str, Any], process: subprocess.Popen[str]) -> None:
        time.sleep(plan.settle_s)
        after.append(server.rss_kib())
        threads.append(server.threads())
        loadgen.answer(process)

    result = loadgen.run(
        {"kind": "idle", "url": server.url, "sockets": plan.idle_sockets,
         "hold_s": plan.settle_s + 60, "deadline_s": plan.settle_s + 120},
        measure,
    )  # fmt: skip
    if result["still_connected"] != plan.idle_sockets:
        raise loadgen.LoadgenError(
            f"only {result['still_connected']} of {plan.idle_sockets} idle sockets stayed"
        )
    return {
        "sockets": plan.idle_sockets,
        "rss_before_kib": before,
        "rss_after_kib": after[0],
        "kib_per_socket": (after[0] - before) / plan.idle_sockets,
        "threads_connected": threads[0],
        "quiet_after_close_s": round(server.wait_until_quiet(QUIET_TIMEOUT_S), 1),
    }


def measure_server(server: Server, plan: Plan, progress: Progress) -> dict[str, Any]:
    """Everything, on one server: idle memory first (on a fresh process), then requests, HTTP, fan-out."""
    results: dict[str, Any] = {
        "settings": server.settings,
        "requests": {},
        "http": {},
        "fanout": {},
    }
    label = f"{server.async_mode}/{server.kind}"

    def attempt(section: str, key: str | None, run: Callable[[], dict[str, Any]]) -> None:
        try:
            value = run()
        except RuntimeError as exc:  # a LoadgenError, or a server that stayed busy
            value = {"error": str(exc)}
            server.check_alive()
        if key is None:
            results[section] = value
        else:
            results[section][key] = value
        progress(f"{label} {section}{'' if key is None else ' ' + key}: {brief(section, value)}")

    attempt("memory", None, lambda: idle_memory(server, plan))
    for count in plan.concurrency:
        attempt("requests", str(count), lambda: socket_requests(server, count, plan))
    for count in plan.http_connections:
        attempt("http", str(count), lambda: http_requests(server, count, plan))
    for count in plan.subscribers:
        if server.async_mode == "threading" and count > plan.threading_max_subscribers:
            results["fanout"][str(count)] = {
                "skipped": "threading holds several OS threads per socket"
            }
            continue
        attempt("fanout", str(count), lambda: fanout(server, count, plan))
    return results


def brief(section: str, value: dict[str, Any]) -> str:
    """One progress line's worth of a result."""
    if "error" in value:
        return f"FAILED: {value['error'][:300]}"
    if section == "memory":
        return (
            f"{value['kib_per_socket']:.1f} KiB per idle socket ({value['threads_connected']} threads); "
            f"quiet {value['quiet_after_close_s']} s after they left"
        )
    if section == "fanout":
        done = value["all_delivered"]
        return (
            f"all delivered p50 {done['p50_ms']:.1f} ms, p99 {done['p99_ms']:.1f} ms, "
            f"{value['deliveries_per_s']:,.0f} deliveries/s, loadgen CPU {value['loadgen_cpu_percent']}%; "
            f"quiet {value['quiet_after_close_s']} s after they left"
        )
    latency = value["latency"]
    return (
        f"{value['rps']:,.0f} req/s, p50 {latency['p50_ms']:.2f} ms, p99 {latency['p99_ms']:.2f} ms, "
        f"server CPU {value['server_cpu_percent']}%, loadgen CPU {value['loadgen_cpu_percent']}%"
    )
