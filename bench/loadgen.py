"""Runs the Node load generator (bench/loadgen.js) pinned to CPU 1, one scenario at a time.

The generator prints JSON lines: marks while it runs, a result last. A mark
is handed to a callback the moment it arrives (the harness samples the
server's CPU time or memory then), and the callback may answer on the
generator's stdin. Every read is bounded by the scenario's deadline.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

from . import processes

LOADGEN_CPU = 1
SCRIPT = processes.ROOT / "bench" / "loadgen.js"

Mark = dict[str, Any]
OnMark = Callable[[Mark, subprocess.Popen[str]], None]


class LoadgenError(RuntimeError):
    """The load generator failed or did not finish in time."""


def run(scenario: dict[str, Any], on_mark: OnMark | None = None) -> dict[str, Any]:
    """Run one scenario; its result (the last JSON line), without the ``event`` key."""
    deadline_s = float(scenario.setdefault("deadline_s", 120))
    command = processes.pinned(LOADGEN_CPU, ["node", str(SCRIPT), json.dumps(scenario)])
    process = processes.start(command, stdout=subprocess.PIPE, stdin=subprocess.PIPE)
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(process, lines), daemon=True)
    reader.start()
    try:
        return _follow(process, lines, on_mark, time.monotonic() + deadline_s + 10)
    finally:
        processes.stop(process)


def _read_lines(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.put(line)
    lines.put(None)


def _follow(
    process: subprocess.Popen[str],
    lines: queue.Queue[str | None],
    on_mark: OnMark | None,
    deadline: float,
) -> dict[str, Any]:
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise LoadgenError("the load generator did not finish in time") from None
        if line is None:
            raise LoadgenError(
                f"the load generator ended with {process.wait(timeout=5)} and no result"
            )
        if not line.startswith("{"):
            continue
        message = json.loads(line)
        event = message.pop("event", None)
        if event == "mark" and on_mark is not None:
            on_mark(message, process)
        elif event == "result":
            if "error" in message:
                raise LoadgenError(message["error"])
            return dict(message)


def answer(process: subprocess.Popen[str], text: str = "go") -> None:
    """Write one line to the generator's stdin (what an ``idle`` scenario waits for)."""
    assert process.stdin is not None
    process.stdin.write(text + "\n")
    process.stdin.flush()
