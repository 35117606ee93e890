"""Fixtures shared by the whole suite: apps, test sockets, real servers, real clients."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_sockpub.client import Client
from flask_sockpub.testing import LiveServer, SocketTestClient, live_server
from tests.apps.pipeline import create_app
from tests.hidden_modules import without_gevent_websocket

# The CRUD blueprint tests' served app and HTTP/socket callers.
pytest_plugins = ["tests.blueprint_support"]

#: Test files that drive Node.js (the sails.io.js and SDK suites).
NODE_TEST_FILES = frozenset({"test_sails_io_js.py", "test_sdk_js.py"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what each test needs, so a quick loop can leave it out: ``pytest -m "not browser"``.

    ``browser``: Chromium; ``node``: Node.js; ``postgres``: PostgreSQL;
    ``redis``: Redis; ``amqp``: RabbitMQ. The test command runs them all.
    """
    for item in items:
        path = Path(str(item.fspath))
        if "browser" in path.parts:
            item.add_marker(pytest.mark.browser)
        if path.name in NODE_TEST_FILES:
            item.add_marker(pytest.mark.node)
        if "postgres" in item.nodeid:
            item.add_marker(pytest.mark.postgres)
        if "redis" in item.nodeid or "redis_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.redis)
        if "amqp" in item.nodeid:
            item.add_marker(pytest.mark.amqp)


@pytest.fixture
def app() -> Flask:
    """A fresh pipeline app per test."""
    return create_app()


@pytest.fixture
def test_socket(app: Flask) -> Iterator[SocketTestClient]:
    """A socket on ``app`` through the test client (no network)."""
    client = app.extensions["sockpub"].sockpub.test_client(app)
    yield client
    if client.connected:
        client.disconnect()


@pytest.fixture(scope="session")
def pipeline_server() -> Iterator[LiveServer]:
    """The pipeline app served for real (threading mode) for the whole session."""
    with live_server("tests.apps.pipeline:create_app") as server:
        yield server


@pytest.fixture(scope="session")
def real_socket(pipeline_server: LiveServer) -> Iterator[Client]:
    """A python-socketio client connected to the real pipeline server.

    Shared by the session, so tests that need no fresh socket save a
    connect and a close (under the threading server, the close waits
    ``flask_sockpub.client.CLOSE_WAIT`` for a close frame Werkzeug never sends).
    """
    with Client(pipeline_server.url) as client:
        yield client


@pytest.fixture(params=["test_client", "real_server"])
def socket(request: pytest.FixtureRequest) -> Any:
    """A socket on the pipeline app: through the test client, then over a real server."""
    if request.param == "test_client":
        return request.getfixturevalue("test_socket")
    return request.getfixturevalue("real_socket")


#: Servers of tests/apps/clients.py that tests can ask for by name (with
#: ``indirect=True``): the async mode, and whether gevent-websocket is hidden so
#: that gevent serves WebSockets with simple-websocket.
SERVER_VARIANTS = {
    "threading": ("threading", False),
    "gevent": ("gevent", False),
    "gevent+simple-websocket": ("gevent", True),
    "eventlet": ("eventlet", False),
}


def variant_environment(
    variant: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, dict[str, str]]:
    """The async mode of ``variant`` (of :data:`SERVER_VARIANTS`) and the environment serving it."""
    async_mode, hide_gevent_websocket = SERVER_VARIANTS[variant]
    env = {}
    if hide_gevent_websocket:
        hidden = without_gevent_websocket(tmp_path_factory.mktemp("without-gevent-websocket"))
        env["PYTHONPATH"] = os.pathsep.join([hidden, os.getcwd()])
    return async_mode, env


@pytest.fixture(scope="session")
def clients_server() -> Iterator[LiveServer]:
    """tests/apps/clients.py served under gevent (the mode the docs recommend) for the session."""
    with live_server("tests.apps.clients:create_app", async_mode="gevent") as server:
        yield server


@pytest.fixture(scope="session")
def variant_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """tests/apps/clients.py served in the variant of :data:`SERVER_VARIANTS` named by the parameter."""
    if request.param == "gevent":
        yield request.getfixturevalue("clients_server")
        return
    async_mode, env = variant_environment(request.param, tmp_path_factory)
    with live_server("tests.apps.clients:create_app", async_mode=async_mode, env=env) as server:
        yield server
