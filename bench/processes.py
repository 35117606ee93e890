"""The child processes of a benchmark run: started pinned to a core, always stopped.

Every process started here is remembered until it is stopped, and
:func:`stop_all` (run at exit, on SIGTERM and SIGHUP once
:func:`stop_children_on_exit` is called) ends whichever are left, so that no server outlives a run
that failed or was interrupted.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Any

from flask_sockpub.testing import stop_process

#: Where the repository is: children run from there.
ROOT = Path(__file__).resolve().parent.parent
_children: list[subprocess.Popen[Any]] = []


def pinned(cpu: int, command: Sequence[str]) -> list[str]:
    """``command`` run on one CPU only (``taskset -c CPU``)."""
    return ["taskset", "-c", str(cpu), *command]


def start(
    command: Sequence[str],
    *,
    stdout: int | IO[Any],
    stdin: int | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[Any]:
    """Start ``command`` in its own session, from the repository's root; remembered until stopped."""
    process = subprocess.Popen(
        list(command), cwd=ROOT, env={**os.environ, **(env or {})}, stdout=stdout,
        stderr=subprocess.STDOUT if stdout is not subprocess.PIPE else None,
        stdin=stdin, text=True, start_new_session=True,
    )  # fmt: skip
    _children.append(process)
    return process


def stop(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """Terminate ``process`` (then kill it if it lingers) and forget it."""
    stop_process(process, timeout)
    if process in _children:
        _children.remove(process)


def stop_all() -> None:
    """Stop every child still running."""
    for process in list(_children):
        stop(process)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    stop_all()
    sys.exit(128 + signum)


def stop_children_on_exit() -> None:
    """Stop every child at exit and on SIGTERM or SIGHUP (Ctrl-C unwinds through ``finally``)."""
    atexit.register(stop_all)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
