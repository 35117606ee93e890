"""Start a cluster on this machine: N gunicorn processes on consecutive ports, one Redis.

    python -m examples.cluster --processes 3 --port 5000 --balancer 8000

starts ``examples.cluster.app`` in 3 gunicorn processes (gevent worker class,
one worker each, ``gunicorn.conf.py`` here for graceful rolling restarts)
on ports 5000, 5001 and 5002, joined by the Redis at ``--queue`` and sharing
one SQLite database, and, with ``--balancer``, a round-robin TCP balancer on
port 8000 in front of them (:mod:`examples.cluster.balancer`). It prints one
line per process, ``process 1: pid 1234, http://127.0.0.1:5000``, then
``cluster ready``, and runs until Ctrl-C or SIGTERM, which stops every
process. A process that exits (``kill -TERM <pid>`` for a rolling restart)
is reported and not replaced; ``--restart`` starts it again.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from flask_sockpub.testing import stop_process

from .balancer import Balancer

HOST = "127.0.0.1"
APP = "examples.cluster.app:create_app()"
ROOT = Path(__file__).resolve().parents[2]
#: gunicorn's configuration file: graceful shutdown (flask_sockpub.serving.graceful).
GUNICORN_CONF = Path(__file__).resolve().parent / "gunicorn.conf.py"


def worker_class() -> str:
    """gunicorn's ``gevent`` worker, or gevent-websocket's when that is installed.

    With gevent-websocket importable, Engine.IO serves WebSockets with it,
    which the plain gevent worker cannot run (see the deployment docs).
    """
    if importlib.util.find_spec("geventwebsocket") is not None:
        return "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"
    return "gevent"


def gunicorn_command(port: int, host: str = HOST) -> list[str]:
    """One process of the cluster: gunicorn, gevent worker class, one worker, graceful shutdown."""
    return [
        sys.executable, "-m", "gunicorn", "--worker-class", worker_class(), "--workers", "1",
        "--bind", f"{host}:{port}", "--config", str(GUNICORN_CONF), "--no-control-socket", "--graceful-timeout", "20", "--worker-connections", "100000", APP,
    ]  # fmt: skip


class Cluster:
    """The gunicorn processes of the cluster, by port."""

    def __init__(self, ports: list[int], env: dict[str, str], restart: bool) -> None:
        self.ports = ports
        self.env = env
        self.restart = restart
        self.processes: dict[int, subprocess.Popen[Any]] = {}

    def start(self, number: int, port: int) -> None:
        # Its own session: a SIGKILL of the group takes gunicorn's worker too.
        process = subprocess.Popen(
            gunicorn_command(port), cwd=ROOT, env=self.env, start_new_session=True
        )
        self.processes[port] = process
        print(f"process {number}: pid {process.pid}, http://{HOST}:{port}", flush=True)

    async def watch(self) -> None:
        """Report processes that exit; start them again with ``--restart``."""
        while True:
            await asyncio.sleep(0.5)
            for number, port in enumerate(self.ports, 1):
                process = self.processes[port]
                if process.poll() is not None and process.returncode is not None:
                    if self.restart:
                        print(
                            f"process {number} exited ({process.returncode}); restarting",
                            flush=True,
                        )
                        self.start(number, port)
                    elif not getattr(process, "reported", False):
                        print(f"process {number} exited ({process.returncode})", flush=True)
                        process.reported = True  # type: ignore[attr-defined]

    def stop(self) -> None:
        """SIGTERM every process at once (each shuts down gracefully), then wait for them."""
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            stop_process(process, timeout=25)


async def wait_until_serving(ports: list[int], timeout: float = 120) -> None:
    """Return once every process answers HTTP (its worker has booted), not only accepts connections."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    for port in ports:
        while not await answers(port):
            if loop.time() > deadline:
                raise SystemExit(f"no process serves on port {port}")
            await asyncio.sleep(0.2)


async def answers(port: int) -> bool:
    """Whether the process on ``port`` answers ``GET /whoami`` with 200."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 5)
    except (OSError, asyncio.TimeoutError):
        return False
    try:
        writer.write(f"GET /whoami HTTP/1.0\r\nHost: {HOST}:{port}\r\n\r\n".encode())
        status = await asyncio.wait_for(reader.readline(), 30)
        return status.split()[1:2] == [b"200"]
    except (OSError, asyncio.TimeoutError):
        return False
    finally:
        writer.close()


async def run(args: argparse.Namespace, cluster: Cluster) -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    for number, port in enumerate(cluster.ports, 1):
        cluster.start(number, port)
    listening = asyncio.create_task(wait_until_serving(cluster.ports))
    await asyncio.wait(
        [listening, asyncio.create_task(stopped.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    if stopped.is_set():
        listening.cancel()
        return
    listening.result()
    if args.balancer:
        balancer = Balancer([(HOST, port) for port in cluster.ports])
        await balancer.serve(HOST, args.balancer)
        print(f"balancer: http://{HOST}:{args.balancer} (round robin, no stickiness)", flush=True)
    print("cluster ready", flush=True)
    watching = asyncio.create_task(cluster.watch())
    await stopped.wait()
    watching.cancel()


def create_tables(database_url: str) -> None:
    """Create the app's tables once, before the processes start (not three at a time)."""
    from sqlalchemy import create_engine

    from .app import db

    engine = create_engine(database_url)
    db.metadata.create_all(engine)
    engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m examples.cluster", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--processes", type=int, default=3, help="how many processes (default 3)")
    parser.add_argument("--port", type=int, default=5000, help="port of the first process")
    parser.add_argument("--balancer", type=int, default=0, help="port of a round-robin balancer")
    parser.add_argument(
        "--queue", default="redis://127.0.0.1:6379/0", help="SOCKPUB_MESSAGE_QUEUE (Redis URL)"
    )
    parser.add_argument("--database", help="DATABASE_URL (default: a new SQLite file)")
    parser.add_argument("--restart", action="store_true", help="start exited processes again")
    args = parser.parse_args(argv)
    data = tempfile.TemporaryDirectory(prefix="sockpub-cluster-")
    env = {
        **os.environ,
        "SOCKPUB_MESSAGE_QUEUE": args.queue,
        "DATABASE_URL": args.database or f"sqlite:///{data.name}/notes.sqlite",
        "PYTHONUNBUFFERED": "1",
    }
    create_tables(env["DATABASE_URL"])
    cluster = Cluster([args.port + number for number in range(args.processes)], env, args.restart)
    try:
        asyncio.run(run(args, cluster))
    finally:
        cluster.stop()
        data.cleanup()


if __name__ == "__main__":
    main()
