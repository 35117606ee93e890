"""A Redis of the test's own and the cluster of ``examples/cluster``, started as the docs say.

The cluster is started with the command docs/deployment.rst gives (read from
the docs, only its ports and Redis URL changed), so the docs and the tests
cannot drift apart. The Redis is started on a free port, never the shared
one on 6379, so that a test may stop and restart it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_sockpub.testing import free_port, stop_process

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENT_DOCS = ROOT / "docs" / "deployment.rst"
#: Bound on the cluster's start (three gunicorn processes on a busy machine).
START_TIMEOUT = 120.0
DOCS_COMMAND = re.compile(r"^\s*(python -m examples\.cluster .*)$", re.MULTILINE)


def documented_command() -> list[str]:
    """The command docs/deployment.rst gives to start the example cluster."""
    found = DOCS_COMMAND.findall(DEPLOYMENT_DOCS.read_text())
    assert len(found) == 1, (
        f"docs/deployment.rst should give one `python -m examples.cluster` line: {found}"
    )
    return shlex.split(found[0])


def with_option(command: list[str], option: str, value: str) -> list[str]:
    """``command`` with the value of ``option`` replaced (the option must be there)."""
    assert option in command, f"the documented command {command} has no {option}"
    at = command.index(option) + 1
    return [*command[:at], value, *command[at + 1 :]]


def wait_for_port(port: int, timeout: float, up: bool = True) -> None:
    """Wait until 127.0.0.1:``port`` accepts connections (or, ``up=False``, refuses them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not {'open' if up else 'close'} within {timeout} s")


class OwnRedis:
    """``redis-server`` on a free port, without persistence; may be stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[Any] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port, 10)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None
        wait_for_port(self.port, 10, up=False)


@contextmanager
def own_redis() -> Iterator[OwnRedis]:
    """A Redis of the test's own, stopped at the end."""
    redis = OwnRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@dataclass
class Cluster:
    """The running example cluster: its gunicorn processes (pid, URL) and its balancer."""

    process: subprocess.Popen[str]
    pids: list[int] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    balancer: str = ""
    output: list[str] = field(default_factory=list)

    def log(self) -> str:
        return "\n".join(self.output)

    def port(self, number: int) -> int:
        return int(self.urls[number].rsplit(":", 1)[1])

    def terminate(self, number: int) -> None:
        """SIGTERM gunicorn process ``number`` (0-based): a graceful shutdown."""
        os.kill(self.pids[number], signal.SIGTERM)

    def kill(self, number: int) -> None:
        """SIGKILL gunicorn process ``number`` and its worker (its process group)."""
        os.killpg(self.pids[number], signal.SIGKILL)

    def alive(self, number: int) -> bool:
        """Whether gunicorn process ``number`` still runs (a child of the launcher: ask /proc)."""
        try:
            state = Path(f"/proc/{self.pids[number]}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        return state != "Z"

    def wait_for_line(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.output):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the cluster never printed {text!r}:\n{self.log()}")
            time.sleep(0.05)


def consecutive_free_ports(count: int) -> int:
    """The first of ``count`` consecutive ports free on 127.0.0.1 right now."""
    for _ in range(100):
        first = free_port()
        if first + count > 65535:
            continue
        try:
            for port in range(first, first + count):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first
    raise RuntimeError(f"found no {count} consecutive free ports")


@contextmanager
def running_cluster(redis_url: str, processes: int = 3) -> Iterator[Cluster]:
    """The example cluster, started with the documented command on free ports and ``redis_url``."""
    command = documented_command()
    command = with_option(command, "--processes", str(processes))
    command = with_option(command, "--port", str(consecutive_free_ports(processes)))
    command = with_option(command, "--balancer", str(free_port()))
    command = with_option(command, "--queue", redis_url)
    assert command[:3] == ["python", "-m", "examples.cluster"]
    process = subprocess.Popen(
        [sys.executable, *command[1:]], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    cluster = Cluster(process)

    def read_output() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            cluster.output.append(line.rstrip("\n"))

    reader = threading.Thread(target=read_output, daemon=True)
    reader.start()
    try:
        cluster.wait_for_line("cluster ready", START_TIMEOUT)
        for line in cluster.output:
            if found := re.match(r"process \d+: pid (\d+), (http://\S+)$", line):
                cluster.pids.append(int(found[1]))
                cluster.urls.append(found[2])
            if found := re.match(r"balancer: (http://\S+) ", line):
                cluster.balancer = found[1]
        assert len(cluster.urls) == processes and cluster.balancer, cluster.log()
        yield cluster
    finally:
        # The graceful shutdown is tested where it matters; at the end of a
        # test the processes just go (seconds saved per test).
        for pid in cluster.pids:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        stop_process(process, timeout=30)
        reader.join(timeout=5)
        assert process.stdout is not None
        process.stdout.close()
