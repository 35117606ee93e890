"""Fixtures shared by the whole suite: apps, test sockets, real servers, real clients."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from flask_sockpub.client import Client
from flask_sockpub.testing import LiveServer, SocketTestClient, live_server
from tests.apps.pipeline import create_app


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

    Shared by the session: under the threading (Werkzeug) server, closing a
    websocket-client connection waits 3 s for a close frame Werkzeug never
    sends, so tests that need no fresh socket reuse this one.
    """
    with Client(pipeline_server.url) as client:
        yield client


@pytest.fixture(params=["test_client", "real_server"])
def socket(request: pytest.FixtureRequest) -> Any:
    """A socket on the pipeline app: through the test client, then over a real server."""
    if request.param == "test_client":
        return request.getfixturevalue("test_socket")
    return request.getfixturevalue("real_socket")
