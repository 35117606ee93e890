"""Launching a benchmark server (``bench.serve``, or Node for Sails) in a subprocess pinned to CPU 0, and what /proc tells of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask_sockpub.testing import free_port, wait_until_listening

from . import processes, sails
from .serve import SETTINGS_PREFIX

SERVER_CPU = 0
#: The app each kind of Python server serves (``bench.serve`` serves it).
TARGETS = {"ours": "bench.app:create_app", "floor": "bench.floor:create_app"}
#: The kind served by Node (bench/sails_app, installed by :func:`bench.sails.prepare`), and its "async mode".
SAILS = "sails"
NODE = "node"


@dataclass
class Server:
    """A running benchmark server."""

    kind: str
    async_mode: str
    url: str
    process: subprocess.Popen[Any]
    log_file: IO[str]
    settings: dict[str, Any]

    def log(self) -> str:
        """What the server printed so far."""
        self.log_file.flush()
        return Path(self.log_file.name).read_text(errors="replace")

    def rss_kib(self) -> int:
        """Resident memory of the server process (``VmRSS``), in KiB."""
        return self._status_number("VmRSS")

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def threads(self) -> int:
        """How many threads the server process has."""
        return self._status_number("Threads")

    def _status_number(self, field: str) -> int:
        """The number a field of ``/proc/PID/status`` starts with (``VmRSS: 1234 kB`` -> 1234)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name == field:
                return int(value.split()[0])
        raise RuntimeError(f"no {field} in /proc/{self.process.pid}/status")

    def wait_until_quiet(
        self, timeout: float, busy_share: float = 0.05, period: float = 0.5
    ) -> float:
        """Wait until the server uses under ``busy_share`` of a CPU for ``period`` seconds.

        Returns the seconds waited (sockets that just left may keep a server
        busy for a while: under threading each holds threads that must end).
        """
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            self.check_alive()
            before = self.cpu_seconds()
            time.sleep(period)
            if self.cpu_seconds() - before < busy_share * period:
                return time.monotonic() - started
        raise RuntimeError(
            f"the {self.kind} server was still busy {timeout:.0f} s after its sockets left"
        )

    def check_alive(self) -> None:
        """Raise, with the server's log, if it has exited."""
        if self.process.poll() is not None:
            raise RuntimeError(
                f"the {self.kind} server exited with {self.process.returncode}:\n{self.log()}"
            )


@contextmanager
def running_server(
    kind: str,
    async_mode: str,
    *,
    websocket: str = "simple-websocket",
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Iterator[Server]:
    """Serve ``kind`` ("ours" or "floor" in ``async_mode``; "sails" in mode "node") until the block ends."""
    port = free_port()
    data_dir = tempfile.TemporaryDirectory(prefix="sockpub-bench-")
    log_file = tempfile.NamedTemporaryFile("w+", prefix=f"sockpub-bench-{kind}-", suffix=".log")
    if kind == SAILS:
        command = sails.command(port)
    else:
        command = [
            sys.executable, "-m", "bench.serve", TARGETS[kind],
            "--async-mode", async_mode, "--port", str(port), "--websocket", websocket,
        ]  # fmt: skip
    process = processes.start(
        processes.pinned(SERVER_CPU, command),
        stdout=log_file,
        env={"BENCH_DATA_DIR": data_dir.name, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    try:
        server = Server(kind, async_mode, f"http://127.0.0.1:{port}", process, log_file, {})
        wait_until_listening(server, "127.0.0.1", port, timeout)
        server.settings = read_settings(server, timeout)
        yield server
    finally:
        processes.stop(process)
        log_file.close()
        data_dir.cleanup()


def read_settings(server: Server, timeout: float) -> dict[str, Any]:
    """The settings line the server printed (Sails prints it a moment after it listens)."""
    deadline = time.monotonic() + timeout
    while True:
        for line in server.log().splitlines():
            if line.startswith(SETTINGS_PREFIX):
                return dict(json.loads(line[len(SETTINGS_PREFIX) :]))
        server.check_alive()
        if time.monotonic() > deadline:
            raise RuntimeError(f"the {server.kind} server printed no settings:\n{server.log()}")
        time.sleep(0.1)
