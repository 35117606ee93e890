"""``python -m bench``: ours against the floor in every async mode and against Sails, in one run; table, JSON, reST and PNGs.

Sails first (bench/sails_app, installed by npm into bench/.sails at the first
run), then per async mode ours and the floor: each server, one at a time,
runs pinned to CPU 0 and the Node load generator to CPU 1, on 127.0.0.1.
Progress goes to stderr as it goes; the table goes to stdout at the end.
Results are saved after every server, so an interrupted run keeps what it
measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from . import plots, processes, report, sails
from .cluster import many_processes
from .launcher import NODE, SAILS, running_server
from .scenarios import QUICK, Plan, measure_server
from .serve import WEBSOCKET_CHOICES, raise_file_limit

MODES = ("threading", "gevent", "eventlet")
KINDS = ("ours", "floor")
DEFAULT_OUT = processes.ROOT / "docs" / "performance" / "results.json"
#: The reST tables docs/performance.rst includes (not .rst: Sphinx would build it as a page).
TABLE_NAME = "table.inc"
QUICK_OUT = Path(tempfile.gettempdir()) / "sockpub-bench-quick" / "results.json"
PACKAGES = (
    "Flask", "Flask-SocketIO", "python-socketio", "python-engineio", "simple-websocket",
    "gevent", "gevent-websocket", "eventlet", "orjson", "Flask-SQLAlchemy",
)  # fmt: skip
#: Settings that must be equal in ours and the floor (see bench.serve.settings).
COMPARED = (
    "async_mode",
    "async_handlers",
    "packet_class",
    "websocket",
    "eventlet_backlog",
    "eventlet_max_connections",
)
MIDDLEWARE = ("NoDelay", "DeclineCompression")
#: Above this share of its CPU, the load generator may be what limits a figure.
LOADGEN_BUSY = 85

_started = time.monotonic()


def progress(text: str) -> None:
    print(f"[{time.monotonic() - _started:6.0f} s] {text}", file=sys.stderr, flush=True)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--modes", default=",".join(MODES), help="comma-separated async modes (default: all three)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="small counts: a smoke run of a few minutes"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help=f"results JSON; plots and table.inc go beside it "
        f"(default {DEFAULT_OUT.relative_to(processes.ROOT)}, or {QUICK_OUT} with --quick)",
    )
    parser.add_argument(
        "--websocket",
        choices=WEBSOCKET_CHOICES,
        default="simple-websocket",
        help="what serves WebSockets under gevent, for both servers (default simple-websocket)",
    )
    parser.add_argument(
        "--no-sails",
        dest="sails",
        action="store_false",
        help="leave out the Sails peer (it is installed with npm into bench/.sails at the first run)",
    )
    parser.add_argument(
        "--many-processes",
        choices=("yes", "no", "only"),
        default="yes",
        help="the many-processes scenario (1, 2, 3 processes on a Redis of the run's own): "
        "with the rest (yes, the default), left out (no), or alone (only)",
    )
    parser.add_argument(
        "--from-json", type=Path, help="only redraw the table and plots of an earlier run"
    )
    args = parser.parse_args(argv)
    args.modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    unknown = set(args.modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes {', '.join(sorted(unknown))}; choose from {', '.join(MODES)}")
    args.out = args.out or (QUICK_OUT if args.quick else DEFAULT_OUT)
    return args


def preflight(websocket: str, with_sails: bool, with_redis: bool = True) -> None:
    """Stop early, with the reason, when the machine cannot run the benchmark."""
    if with_redis and shutil.which("redis-server") is None:
        raise SystemExit(
            "bench: redis-server is missing (the many-processes scenario starts one; "
            "--many-processes no leaves it out)"
        )
    if shutil.which("taskset") is None:
        raise SystemExit("bench: taskset is missing (util-linux)")
    if shutil.which("node") is None:
        raise SystemExit("bench: node is missing")
    if with_sails and shutil.which("npm") is None:
        raise SystemExit(
            "bench: npm is missing (it installs the Sails peer; --no-sails leaves Sails out)"
        )
    if not (processes.ROOT / "node_modules" / "socket.io-client").is_dir():
        raise SystemExit(
            "bench: node_modules/socket.io-client is missing: run npm ci (scripts/bench does)"
        )
    if websocket == "gevent-websocket" and find_spec("geventwebsocket") is None:
        raise SystemExit(
            "bench: --websocket gevent-websocket, but gevent-websocket is not installed"
        )
    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("bench: needs two CPUs (server on CPU 0, load generator on CPU 1)")


def _command(*command: str) -> str:
    try:
        return subprocess.run(
            command, capture_output=True, text=True, timeout=10, cwd=processes.ROOT
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    """What the figures depend on besides the code: load, CPU, versions, commit."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    socketio_client = json.loads(
        (processes.ROOT / "node_modules/socket.io-client/package.json").read_text()
    )
    return {
        "uptime": _command("uptime"),
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "python": platform.python_version(),
        "node": _command("node", "--version"),
        "socket.io-client": socketio_client["version"],
        "packages": {name: _version(name) for name in PACKAGES},
        "commit": _command("git", "rev-parse", "--short", "HEAD"),
        "uncommitted_changes_in_flask_sockpub": bool(
            _command("git", "status", "--porcelain", "flask_sockpub")
        ),
    }


def compare_settings(mode: str, ours: dict[str, Any], floor: dict[str, Any]) -> list[str]:
    """Where the floor's settings differ from ours (it should be nowhere)."""
    found = [
        f"{mode}: {key} is {ours.get(key)!r} in ours, {floor.get(key)!r} in the floor"
        for key in COMPARED if ours.get(key) != floor.get(key)
    ]  # fmt: skip
    for name in MIDDLEWARE:
        if (name in ours.get("middleware", ())) != (name in floor.get("middleware", ())):
            found.append(f"{mode}: middleware {name} in only one of ours and the floor")
    return found


def check_results(mode: str, runs: dict[str, Any]) -> list[str]:
    """Failed measurements, and those where the load generator may have been the bottleneck."""
    found = []
    for kind, run in runs.items():
        if "error" in run:
            found.append(f"{mode}/{kind}: the server failed: {run['error'][:200]}")
        for section in ("requests", "http", "fanout"):
            for key, value in run.get(section, {}).items():
                where = f"{mode}/{kind} {section} {key}"
                if "error" in value:
                    found.append(f"{where}: failed: {value['error'][:200]}")
                elif "skipped" in value:
                    found.append(f"{where}: skipped: {value['skipped']}")
                elif (value.get("loadgen_cpu_percent") or 0) > LOADGEN_BUSY:
                    found.append(
                        f"{where}: the load generator used {value['loadgen_cpu_percent']}% of its CPU"
                    )
    return found


def measure(
    kind: str, mode: str, plan: Plan, websocket: str, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Everything on one fresh server of ``kind`` in ``mode``; ``{"error": ...}`` if it failed."""
    progress(f"{mode}/{kind}: starting the server")
    try:
        with running_server(kind, mode, websocket=websocket, env=env) as server:
            progress(f"{mode}/{kind}: settings {json.dumps(server.settings)}")
            return measure_server(server, plan, progress)
    except RuntimeError as exc:
        progress(f"{mode}/{kind}: FAILED: {exc}")
        return {"error": str(exc)}


def measure_mode(mode: str, plan: Plan, websocket: str) -> dict[str, Any]:
    """Ours, then the floor with ours' ``async_handlers``, each on a fresh server."""
    runs: dict[str, Any] = {}
    for kind in KINDS:
        env = {}
        ours_settings = runs.get("ours", {}).get("settings", {})
        if kind == "floor" and "async_handlers" in ours_settings:
            env["BENCH_ASYNC_HANDLERS"] = "1" if ours_settings["async_handlers"] else "0"
        runs[kind] = measure(kind, mode, plan, websocket, env)
    return runs


def save(results: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


def write_outputs(results: dict[str, Any], out: Path) -> None:
    """The JSON (with the table's rows and ratios), the reST table (table.inc) and the PNGs beside it; the table on stdout."""
    results["table"] = report.table(results)
    save(results, out)
    (out.parent / TABLE_NAME).write_text(report.rst_tables(results))
    for path in plots.draw(results, out.parent):
        progress(f"wrote {path}")
    progress(f"wrote {out} and {out.parent / TABLE_NAME}")
    print(report.text_table(results))


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.from_json:
        write_outputs(json.loads(args.from_json.read_text()), args.out)
        return
    if args.many_processes == "only":
        args.sails, args.modes = False, []
    preflight(args.websocket, args.sails, args.many_processes != "no")
    processes.stop_children_on_exit()
    raise_file_limit()  # inherited by the load generator and the Sails server
    if args.sails:
        sails.prepare(progress)
    plan = QUICK if args.quick else Plan()
    results: dict[str, Any] = {
        "meta": {
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(),
            "plan": plan.as_dict(),
            "quick": args.quick,
            "gevent_websocket_server": args.websocket,
        },
        "sails": None,
        "runs": {},
        "processes": {},
        "warnings": [],
    }
    progress(f"load: {results['meta']['machine']['uptime']}")
    try:
        if args.sails:
            results["sails"] = measure(SAILS, NODE, plan, args.websocket)
            results["warnings"] += check_results(NODE, {SAILS: results["sails"]})
            save(results, args.out)
        for mode in args.modes:
            results["runs"][mode] = measure_mode(mode, plan, args.websocket)
            runs = results["runs"][mode]
            results["warnings"] += compare_settings(
                mode, runs["ours"].get("settings", {}), runs["floor"].get("settings", {})
            )
            results["warnings"] += check_results(mode, runs)
            save(results, args.out)
        if args.many_processes != "no":
            results["processes"] = many_processes(
                plan.processes,
                plan.processes_subscribers,
                plan.rounds,
                plan.warmup_rounds,
                progress,
            )
            save(results, args.out)
    finally:
        processes.stop_all()
    results["meta"]["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    results["meta"]["uptime_at_end"] = _command("uptime")
    write_outputs(results, args.out)
