"""Async modes: which one SockPub picks, a smoke subset under gevent and eventlet, gunicorn.

gevent and eventlet monkey-patch a whole process, so every server here runs
in a subprocess of its own; nothing gevent- or eventlet-patched is imported
into the test process. The full socket-request suite runs under threading
and the test client (tests/test_virtual_requests.py); this is the subset
that shows each event loop serving SockPub.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from flask_sockpub.client import Client, ConnectionRefused, Disconnected
from flask_sockpub.serving.async_mode import pick_async_mode
from flask_sockpub.testing import Inbox, LiveServer, free_port
from tests.hidden_modules import without_gevent_websocket

ROOT = Path(__file__).resolve().parent.parent

SMOKE_VARIANTS = ["gevent", "gevent+simple-websocket", "eventlet"]
#: What /server reports in each variant: the async mode, and whether
#: gevent-websocket (rather than simple-websocket) serves the WebSockets.
EXPECTED = {
    "gevent": {"async_mode": "gevent", "gevent_websocket": True},
    "gevent+simple-websocket": {"async_mode": "gevent", "gevent_websocket": False},
    "eventlet": {"async_mode": "eventlet", "gevent_websocket": False},
}


def python_in_a_subprocess(code: str, env: dict[str, str] | None = None) -> str:
    """Run ``code`` in a fresh interpreter that imports this checkout; its stdout."""
    child_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


# -- which mode SockPub picks ---------------------------------------------------

PICKED_MODE = """
import json
from flask import Flask
from flask_sockpub import SockPub
from flask_sockpub.serving.async_mode import pick_async_mode
app = Flask(__name__)
SockPub(app)
print(json.dumps([pick_async_mode(), app.extensions["sockpub"].socketio.async_mode]))
"""


def test_threading_is_picked_in_a_plain_process() -> None:
    assert pick_async_mode() == "threading"


def test_installed_but_unpatched_eventlet_and_gevent_are_never_picked() -> None:
    code = "import eventlet, gevent, sys\n" + PICKED_MODE
    assert json.loads(python_in_a_subprocess(code)) == ["threading", "threading"]


@pytest.mark.parametrize(
    ("patch", "mode"),
    [
        ("from gevent import monkey; monkey.patch_all()", "gevent"),
        ("import eventlet; eventlet.monkey_patch()", "eventlet"),
    ],
)
def test_a_monkey_patched_process_gets_the_mode_of_its_patcher(patch: str, mode: str) -> None:
    assert json.loads(python_in_a_subprocess(patch + "\n" + PICKED_MODE)) == [mode, mode]


# -- the smoke subset, per server variant ----------------------------------------

pytestmark_smoke = pytest.mark.parametrize("variant_server", SMOKE_VARIANTS, indirect=True)


@pytest.fixture
def variant(request: pytest.FixtureRequest) -> str:
    return str(request.node.callspec.params["variant_server"])


@pytestmark_smoke
def test_server_runs_in_its_mode_with_its_websocket_server(
    variant_server: LiveServer, variant: str
) -> None:
    with Client(variant_server.url) as client:
        assert client.get("/server").body == EXPECTED[variant]


@pytestmark_smoke
def test_requests_of_each_method_are_answered(variant_server: LiveServer) -> None:
    with Client(variant_server.url) as client:
        assert client.get("/echo", {"message": "hi"}).body == {"success": True, "message": "hi"}
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)("/methods/users", {"name": "Randy"})
            assert (response.status_code, response.body["method"]) == (200, method.upper())
        assert client.get("/no/such/page").status_code == 404


@pytestmark_smoke
def test_broadcast_reaches_every_listening_socket(variant_server: LiveServer) -> None:
    room = f"smoke-{uuid.uuid4().hex}"
    with Client(variant_server.url) as first, Client(variant_server.url) as second:
        inboxes = Inbox(first), Inbox(second)
        first.post(f"/rooms/{room}/listen")
        second.post(f"/rooms/{room}/listen")
        first.post(f"/rooms/{room}/broadcast", {"text": "to all"})
        for inbox in inboxes:
            assert (
                inbox.wait_for(lambda item: item.data.get("room") == room).data["text"] == "to all"
            )


@pytestmark_smoke
def test_bad_payload_gets_a_400_and_the_socket_keeps_working(variant_server: LiveServer) -> None:
    with Client(variant_server.url) as client:
        jwr = client.emit("get", ["not", "an", "object"])
        assert jwr["statusCode"] == 400
        assert jwr["body"] == {
            "error": "the payload must be an object {method, url, data, headers}, not an array"
        }
        assert client.get("echo-without-a-slash").status_code == 400
        assert client.get("/echo").status_code == 200


@pytestmark_smoke
def test_refused_connection_gets_the_reason(variant_server: LiveServer) -> None:
    with pytest.raises(ConnectionRefused, match="invalid token"):
        Client(variant_server.url, auth={"token": "stolen-token"})


@pytestmark_smoke
def test_a_slow_view_does_not_hold_up_other_sockets(variant_server: LiveServer) -> None:
    # Under an event loop this only holds when the process is monkey-patched:
    # an unpatched time.sleep would stop the whole server.
    slow = Client(variant_server.url)
    outcome: list[BaseException | str] = []
    answered = threading.Event()

    def wait_for_slow_view() -> None:
        try:
            outcome.append(str(slow.get("/slow", {"seconds": 30}).body))
        except BaseException as exc:
            outcome.append(exc)
        answered.set()

    waiting = threading.Thread(target=wait_for_slow_view)
    waiting.start()
    try:
        with Client(variant_server.url) as quick:
            assert quick.get("/echo", {"message": "not held up"}).body["message"] == "not held up"
        assert not answered.is_set()
    finally:
        slow.close()
        waiting.join(10)
    assert [type(item) for item in outcome] == [Disconnected]


# -- gunicorn with the gevent worker ----------------------------------------------


@contextmanager
def gunicorn(worker: str, hide_gevent_websocket: bool, tmp_path: Path) -> Iterator[str]:
    """tests/apps/clients.py under gunicorn with one worker of class ``worker``; its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    pythonpath = [str(ROOT)]
    if hide_gevent_websocket:
        pythonpath.insert(0, without_gevent_websocket(tmp_path))
    command = [
        sys.executable, "-m", "gunicorn", "--worker-class", worker, "--workers", "1",
        "--bind", f"127.0.0.1:{port}", "--no-control-socket", "tests.apps.clients:create_app()",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(pythonpath)}
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        # Wait for the worker, not only the arbiter's socket: the first
        # socket must find the app loaded.
        deadline = time.monotonic() + 30
        while not answers(f"{url}/echo"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn is not serving {url}:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGQUIT)  # gunicorn's quick shutdown
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_gunicorn_gevent_worker_serves_websockets_with_simple_websocket(tmp_path: Path) -> None:
    with gunicorn("gevent", hide_gevent_websocket=True, tmp_path=tmp_path) as url:
        with Client(url) as client:
            # The worker patched the process before loading the app: SockPub picked gevent.
            assert client.get("/server").body == {"async_mode": "gevent", "gevent_websocket": False}
            assert client.sio.transport() == "websocket"


def test_gunicorn_with_gevent_websocket_installed_needs_its_worker(tmp_path: Path) -> None:
    with gunicorn("geventwebsocket.gunicorn.workers.GeventWebSocketWorker", False, tmp_path) as url:
        with Client(url) as client:
            assert client.get("/server").body == {"async_mode": "gevent", "gevent_websocket": True}


def test_gunicorn_gevent_worker_with_gevent_websocket_installed_refuses_websockets(
    tmp_path: Path,
) -> None:
    # What the deployment docs warn about: Engine.IO uses gevent-websocket
    # whenever it is importable, and the plain gevent worker does not run it.
    with gunicorn("gevent", hide_gevent_websocket=False, tmp_path=tmp_path) as url:
        with pytest.raises(ConnectionRefused):
            Client(url, timeout=5)
        with Client(url, transports=("polling",)) as client:
            assert client.get("/echo").status_code == 200
