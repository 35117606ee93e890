"""Where an idle socket's memory goes, per component: ``python -m bench.idle_memory``.

For the floor (bench/floor.py) and ours (bench/app.py), under gevent with
simple-websocket (the bench's default), each served by a child process of this
script (``--serve``, pinned to CPU 0, as ``bench.serve`` serves them), with the
bench's Node load generator (bench/loadgen.js, ``idle``) on CPU 1:

1. 20 sockets connect and leave (first-use allocations are not counted), then
   the server is measured (RSS, live greenlets, and in the traced pass a
   ``tracemalloc`` snapshot);
2. ``--sockets`` sockets connect and stay idle; after a settle, the server
   is measured again; the difference, divided by the socket count, is the
   cost of one idle socket.

Two passes per server, each on a fresh process: one untraced, for RSS and the
greenlets (``tracemalloc`` itself costs memory per allocation), and one with
``tracemalloc`` on, for the Python heap by component. Components:

* each greenlet a socket holds (the gevent ``pywsgi`` handler, which runs
  engine.io's WebSocket loop and waits in ``ws.wait()``; simple-websocket's
  reader; engine.io's writer; engine.io's ping timer), with its saved C stack
  (``greenlet._stack_saved``: the part of the C stack copied to the heap when
  it switched out) and its depth in Python frames at the wait point;
* the Python heap grown per socket, by the package whose code allocated it
  (the innermost frame of the allocation's traceback outside the standard
  library: ``gevent``, ``engineio``, ``simple_websocket``, ``wsproto``,
  ``socketio``, ``flask_socketio``, ``flask_sockpub``, ...), and its top lines;
* what neither sees: RSS grown, less the traced heap and the saved C stacks.
  Most of it is each greenlet's Python frame stack (CPython 3.11+ gives every
  greenlet a data-stack chunk of its own, mapped outside the heap), then
  allocator slack. ``--calibrate`` measures one parked greenlet alone
  (RSS, traced heap, saved stack), so the residual can be read in greenlets.

Run from the repository root with the worktree's venv (a few minutes)::

    .venv/bin/python -m bench.idle_memory                 # both, 1,000 sockets
    .venv/bin/python -m bench.idle_memory --kinds ours --sockets 500 --json out.json

The figures are KiB per socket; only figures from one run compare.
"""

from __future__ import annotations

import sys


def _serving() -> bool:
    return "--serve" in sys.argv or "--calibrate-child" in sys.argv


if _serving():  # the child: patch before anything else is imported
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sysconfig  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

SERVER_CPU = 0
TARGETS = {"ours": "bench.app:create_app", "floor": "bench.floor:create_app"}
#: How deep tracemalloc records each allocation's traceback.
TRACE_DEPTH = 12
#: Where the standard library lives: its frames are skipped when naming the allocating package.
STDLIB = (sysconfig.get_paths()["stdlib"], "<frozen ")

#: Greenlet roles, by a function on their stack at the wait point (file suffix, function).
ROLES = (
    ("engine.io writer", "engineio/socket.py", "writer"),
    ("engine.io ping timer", "engineio/socket.py", "_send_ping"),
    ("simple-websocket reader", "simple_websocket/ws.py", "_thread"),
    ("pywsgi handler (engine.io WebSocket loop)", "engineio/socket.py", "_websocket_handler"),
)


# --- in the server process -------------------------------------------------


def rss_kib() -> int:
    """This process's resident memory, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def role_of(greenlet: Any) -> str:
    """Which kind of per-socket greenlet this is, from the functions on its stack."""
    frame = greenlet.gr_frame
    names = []
    while frame is not None:
        names.append((frame.f_code.co_filename.replace(os.sep, "/"), frame.f_code.co_name))
        frame = frame.f_back
    for role, suffix, function in ROLES:
        if any(path.endswith(suffix) and name == function for path, name in names):
            return role
    if names:
        path, name = names[-1]
        return f"other ({Path(path).name}:{name})"
    return "other (no Python frame)"


def stack_depth(greenlet: Any) -> int:
    depth = 0
    frame = greenlet.gr_frame
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth


def greenlet_stats(stack_sizes: list[int]) -> dict[str, dict[str, float]]:
    """Live greenlets by role: how many, their saved C stacks and Python depth, summed.

    Appends each greenlet's saved stack size to ``stack_sizes``.
    """
    import greenlet  # type: ignore[import-untyped]

    found: dict[str, dict[str, float]] = defaultdict(
        lambda: {"count": 0, "stack_saved": 0, "frames": 0}
    )
    for obj in gc.get_objects():
        if isinstance(obj, greenlet.greenlet) and obj and not obj.dead:
            entry = found[role_of(obj)]
            entry["count"] += 1
            entry["stack_saved"] += obj._stack_saved
            stack_sizes.append(obj._stack_saved)
            entry["frames"] += stack_depth(obj)
    return dict(found)


def package_of(frames: Any) -> tuple[str, str]:
    """The package that allocated, and where: the innermost frame outside the standard library.

    ``frames`` is a raw tracemalloc traceback, ``((filename, lineno), ...)``, most recent first.
    """
    for filename, lineno in frames:
        if not filename.startswith(STDLIB):
            return package_name(filename), f"{short_path(filename)}:{lineno}"
    if not frames:
        return "<unknown>", "<unknown>"
    filename, lineno = frames[0]
    return "stdlib", f"{short_path(filename)}:{lineno}"


def package_name(filename: str) -> str:
    path = filename.replace(os.sep, "/")
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    for top in ("flask_sockpub", "bench", "tests"):
        if f"/{top}/" in path:
            return top
    return Path(path).name


def short_path(filename: str) -> str:
    path = filename.replace(os.sep, "/")
    for marker in ("/site-packages/", "/flask_sockpub/", "/bench/"):
        if marker in path:
            rest = path.split(marker, 1)[1]
            return rest if marker == "/site-packages/" else marker.strip("/") + "/" + rest
    return Path(path).name


def heap_by_package(snapshot: Any, stack_sizes: list[int]) -> dict[str, Any]:
    """Traced bytes by allocating package, with the top lines of each; greenlet stack copies apart.

    tracemalloc sees the copies greenlet makes of a switched-out greenlet's C
    stack, but files them under whichever Python frame was current at the
    switch. Each is one block of exactly the greenlet's ``_stack_saved`` bytes,
    so one trace of that size per live greenlet is counted as a stack instead.
    """
    unclaimed: dict[int, int] = defaultdict(int)
    for size in stack_sizes:
        unclaimed[size] += 1
    by_traceback: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    # The raw traces: building a Trace object for each of 200,000 is too slow.
    for _domain, size, frames, *_ in snapshot.traces._traces:
        if unclaimed.get(size):
            unclaimed[size] -= 1
            continue
        entry = by_traceback[frames]
        entry[0] += size
        entry[1] += 1
    packages: dict[str, int] = defaultdict(int)
    lines: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for frames, (size, count) in by_traceback.items():
        package, where = package_of(frames)
        packages[package] += size
        line = lines[f"{package}|{where}"]
        line[0] += size
        line[1] += count
    return {
        "packages": dict(packages),
        "lines": dict(lines),
        "stack_copies_unmatched": sum(unclaimed.values()),
    }


def measurement() -> dict[str, Any]:
    """What the control port answers: RSS, greenlets, and the traced heap when tracing."""
    import tracemalloc

    gc.collect()
    stack_sizes: list[int] = []
    found: dict[str, Any] = {"rss_kib": rss_kib(), "greenlets": greenlet_stats(stack_sizes)}
    if tracemalloc.is_tracing():
        snapshot = tracemalloc.take_snapshot()
        found["heap"] = heap_by_package(snapshot, stack_sizes)
        found["traced_bytes"] = sum(found["heap"]["packages"].values()) + sum(stack_sizes)
    return found


def serve_control(port: int) -> None:
    """Answer each line on ``port`` with one JSON line of :func:`measurement`."""
    from gevent.server import StreamServer

    def answer(conn: Any, address: Any) -> None:
        stream = conn.makefile("rwb")
        for _ in stream:
            stream.write((json.dumps(measurement()) + "\n").encode())
            stream.flush()

    StreamServer(("127.0.0.1", port), answer).start()


def serve(target: str, port: int, control_port: int, trace: bool) -> None:
    """The server child: the bench app under gevent, as ``bench.serve`` serves it, plus a control port."""
    if trace:
        import tracemalloc

        tracemalloc.start(TRACE_DEPTH)
    sys.modules["geventwebsocket"] = None  # type: ignore[assignment]  # simple-websocket, as the bench
    import logging

    from bench.serve import raise_file_limit
    from flask_sockpub.cli import load_app
    from flask_sockpub.serving.run import serve as serve_app

    raise_file_limit()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = load_app(target)
    serve_control(control_port)
    print("IDLE-MEMORY-READY", flush=True)
    serve_app(app.extensions["socketio"], app, "127.0.0.1", port)


def calibrate(count: int) -> None:
    """Print what ``count`` greenlets parked in ``Event.wait()`` cost, per greenlet."""
    import tracemalloc

    import gevent
    from gevent.event import Event

    event = Event()

    def parked() -> None:
        event.wait()

    def deep(levels: int) -> None:
        if levels:
            deep(levels - 1)
        else:
            event.wait()

    results = {}
    for name, run, args in (("shallow", parked, ()), ("30 Python frames", deep, (30,))):
        tracemalloc.start()
        gc.collect()
        gevent.sleep(0.1)
        rss0, traced0 = rss_kib(), tracemalloc.get_traced_memory()[0]
        greenlets = [gevent.spawn(run, *args) for _ in range(count)]
        gevent.sleep(0.1)
        gc.collect()
        rss1, traced1 = rss_kib(), tracemalloc.get_traced_memory()[0]
        saved = sum(g._stack_saved for g in greenlets)
        tracemalloc.stop()
        results[name] = {
            "rss": (rss1 - rss0) / count,
            "traced": (traced1 - traced0) / 1024 / count,
            "stack_saved": saved / 1024 / count,
        }
        event.set()
        gevent.joinall(greenlets)
        event.clear()
    print(json.dumps(results), flush=True)


# --- in the harness --------------------------------------------------------


class Child:
    """A server child: started pinned, measured through its control port, stopped."""

    def __init__(self, kind: str, trace: bool) -> None:
        from bench import processes
        from flask_sockpub.testing import free_port

        self.port, self.control_port = free_port(), free_port()
        command = [
            sys.executable, "-m", "bench.idle_memory", "--serve", TARGETS[kind],
            "--port", str(self.port), "--control-port", str(self.control_port),
        ] + (["--trace"] if trace else [])  # fmt: skip
        self.data_dir = __import__("tempfile").TemporaryDirectory(prefix="sockpub-idle-")
        self.process = processes.start(
            processes.pinned(SERVER_CPU, command),
            stdout=subprocess.PIPE,
            env={"BENCH_DATA_DIR": self.data_dir.name, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("IDLE-MEMORY-READY"):
                break
        else:
            raise RuntimeError(f"the {kind} server exited with {self.process.wait()}")
        self.control = socket.create_connection(("127.0.0.1", self.control_port), timeout=600)
        self.stream = self.control.makefile("rw")
        from flask_sockpub.testing import wait_until_listening

        class _Alive:
            process = self.process

            def check_alive(self) -> None:
                if self.process.poll() is not None:
                    raise RuntimeError("the server exited")

            def log(self) -> str:
                return ""

        wait_until_listening(_Alive(), "127.0.0.1", self.port, 30)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def measure(self) -> dict[str, Any]:
        self.stream.write("measure\n")
        self.stream.flush()
        return dict(json.loads(self.stream.readline()))

    def stop(self) -> None:
        from bench import processes

        self.control.close()
        processes.stop(self.process)
        self.data_dir.cleanup()


def one_pass(kind: str, sockets: int, settle_s: float, trace: bool) -> dict[str, Any]:
    """Measure ``kind`` before and with ``sockets`` idle sockets, on a fresh server process."""
    from bench import loadgen

    child = Child(kind, trace)
    try:
        loadgen.run(
            {"kind": "idle", "url": child.url, "sockets": 20, "hold_s": 10, "deadline_s": 60},
            lambda mark, process: loadgen.answer(process),
        )
        time.sleep(settle_s)
        before = child.measure()
        after: list[dict[str, Any]] = []

        def measure(mark: dict[str, Any], process: subprocess.Popen[str]) -> None:
            time.sleep(settle_s)
            after.append(child.measure())
            loadgen.answer(process)

        result = loadgen.run(
            {"kind": "idle", "url": child.url, "sockets": sockets,
             "hold_s": settle_s + 300, "deadline_s": settle_s + 400},
            measure,
        )  # fmt: skip
        # A traced measurement holds the event loop long enough for clients to give up
        # afterwards; it was taken with all of them connected.
        if result["still_connected"] != sockets and not trace:
            raise RuntimeError(f"only {result['still_connected']} of {sockets} sockets stayed")
        return {"before": before, "after": after[0]}
    finally:
        child.stop()


def per_socket(plain: dict[str, Any], traced: dict[str, Any], sockets: int) -> dict[str, Any]:
    """KiB per socket by component, from an untraced and a traced pass."""
    before, after = plain["before"], plain["after"]
    rss = (after["rss_kib"] - before["rss_kib"]) / sockets
    greenlets = {}
    for role, entry in after["greenlets"].items():
        base = before["greenlets"].get(role, {"count": 0, "stack_saved": 0, "frames": 0})
        count = entry["count"] - base["count"]
        if count <= 0:
            continue
        greenlets[role] = {
            "per_socket": count / sockets,
            "stack_saved_kib": (entry["stack_saved"] - base["stack_saved"]) / 1024 / sockets,
            "frames": (entry["frames"] - base["frames"]) / count,
        }
    tb, ta = traced["before"]["heap"], traced["after"]["heap"]
    heap = {
        package: (ta["packages"][package] - tb["packages"].get(package, 0)) / 1024 / sockets
        for package in ta["packages"]
    }
    lines = {
        where: (
            (size - tb["lines"].get(where, [0, 0])[0]) / 1024 / sockets,
            (count - tb["lines"].get(where, [0, 0])[1]) / sockets,
        )
        for where, (size, count) in ta["lines"].items()
    }
    traced_kib = (
        (traced["after"]["traced_bytes"] - traced["before"]["traced_bytes"]) / 1024 / sockets
    )
    stacks = sum(entry["stack_saved_kib"] for entry in greenlets.values())
    # This script's own: frame objects made by reading each greenlet's gr_frame, and the
    # list of gc.get_objects(), made after RSS was read.
    artifacts = heap.pop("bench", 0.0)
    heap_kib = traced_kib - stacks - artifacts
    return {
        "rss_kib": rss,
        "traced_rss_kib": (traced["after"]["rss_kib"] - traced["before"]["rss_kib"]) / sockets,
        "greenlets": greenlets,
        "heap_kib": heap,
        "heap_lines_kib": lines,
        "heap_total_kib": heap_kib,
        "stacks_kib": stacks,
        "stack_copies_unmatched": traced["after"]["heap"]["stack_copies_unmatched"],
        "untraced_kib": rss - heap_kib - stacks,
    }


def calibration(count: int = 2000) -> dict[str, Any]:
    """One parked greenlet's cost, measured in a fresh gevent process."""
    from bench import processes

    output = subprocess.run(
        processes.pinned(SERVER_CPU, [sys.executable, "-m", "bench.idle_memory",
                                      "--calibrate-child", str(count)]),
        capture_output=True, text=True, check=True, cwd=processes.ROOT, timeout=120,
    ).stdout  # fmt: skip
    return dict(json.loads(output.strip().splitlines()[-1]))


def report(kind: str, figures: dict[str, Any], top: int) -> str:
    """A readable breakdown of one server's figures."""
    out = [f"== {kind}: {figures['rss_kib']:.1f} KiB RSS per idle socket"]
    out.append("  greenlets per socket (saved C stack, Python frames at the wait):")
    for role, entry in sorted(figures["greenlets"].items()):
        out.append(
            f"    {entry['per_socket']:5.2f} x {role}: {entry['stack_saved_kib']:.1f} KiB saved stack, "
            f"{entry['frames']:.0f} frames"
        )
    out.append(f"  saved C stacks total: {figures['stacks_kib']:.1f} KiB")
    out.append(
        f"  Python heap (tracemalloc, stacks apart) total: {figures['heap_total_kib']:.1f} KiB, "
        f"by package ({figures['stack_copies_unmatched']} stack copies not matched):"
    )
    for package, kib in sorted(figures["heap_kib"].items(), key=lambda item: -item[1]):
        if abs(kib) >= 0.05:
            out.append(f"    {kib:6.2f}  {package}")
    out.append("  top allocation sites:")
    lines = sorted(
        (item for item in figures["heap_lines_kib"].items() if not item[0].startswith("bench|")),
        key=lambda item: -item[1][0],
    )[:top]
    for where, (kib, blocks) in lines:
        out.append(f"    {kib:6.2f} in {blocks:4.1f} blocks  {where.replace('|', '  ')}")
    out.append(
        f"  untraced (RSS - heap - saved stacks: greenlet frame stacks, allocator slack): "
        f"{figures['untraced_kib']:.1f} KiB"
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.idle_memory", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--kinds", default="floor,ours", help="comma-separated: floor, ours")
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--settle", type=float, default=2.0, help="seconds before each measurement")
    parser.add_argument("--top", type=int, default=15, help="allocation sites shown per server")
    parser.add_argument("--no-calibrate", dest="calibrate", action="store_false")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    # the children's modes
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--control-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--calibrate-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port, args.control_port, args.trace)
        return
    if args.calibrate_child:
        calibrate(args.calibrate_child)
        return

    from bench import processes

    processes.stop_children_on_exit()
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    results: dict[str, Any] = {"sockets": args.sockets}
    for kind in [k.strip() for k in args.kinds.split(",") if k.strip()]:
        plain = one_pass(kind, args.sockets, args.settle, trace=False)
        traced = one_pass(kind, args.sockets, args.settle, trace=True)
        results[kind] = per_socket(plain, traced, args.sockets)
        print(report(kind, results[kind], args.top), flush=True)
    if args.calibrate:
        results["calibration"] = calibration()
        print("== one greenlet parked in Event.wait(), alone (KiB):")
        for name, entry in results["calibration"].items():
            print(
                f"    {name}: RSS {entry['rss']:.1f}, traced heap {entry['traced']:.1f}, "
                f"saved C stack {entry['stack_saved']:.1f}"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
