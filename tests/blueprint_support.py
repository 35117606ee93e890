"""Fixtures for the blueprint tests: the served app, and callers over HTTP and sockets.

The app (tests/apps/blueprints.py) is served for real under gevent, once per
database (SQLite, PostgreSQL), and reset before each test. Both callers have
the same methods and answer with a :class:`flask_sockpub.Response`, so one
test runs over either. Loaded by tests/conftest.py as a pytest plugin.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
import requests

from flask_sockpub import Response
from flask_sockpub.client import Client
from flask_sockpub.testing import LiveServer, live_server
from flask_sockpub.wire.jwr import SocketRequests
from flask_sockpub.wire.socket_request import FORM_CONTENT_TYPE, query_string
from tests.databases import mariadb_database, postgres_database


class HttpCaller(SocketRequests):
    """Plain HTTP requests (keep-alive), with GET data encoded as sockets encode it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def request(
        self,
        method: str,
        path: str,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Response:
        method = method.upper()
        headers = dict(headers or {})
        options: dict[str, Any] = {}
        if method in ("GET", "DELETE") and data:
            path += ("&" if "?" in path else "?") + query_string(data)
        elif data is not None and headers.get("Content-Type") == FORM_CONTENT_TYPE:
            options["data"] = query_string(data)
        elif data is not None:
            options["json"] = data
        answer = self.session.request(
            method,
            self.url + path,
            headers=headers,
            timeout=timeout or 10,
            allow_redirects=False,
            **options,
        )
        is_json = answer.headers.get("Content-Type", "").startswith("application/json")
        body = answer.json() if is_json and answer.content else answer.text
        return Response(answer.status_code, body, dict(answer.headers))

    def close(self) -> None:
        self.session.close()


Caller = Any  # HttpCaller or Client: the same methods


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def blueprint_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with database_url(request.param, tmp_path_factory) as url:
        with live_server(
            "tests.apps.blueprints:create_app", async_mode="gevent", env={"DATABASE_URL": url}
        ) as served:
            yield served


@contextmanager
def database_url(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database of ``kind`` (sqlite, postgresql, mariadb) for the blueprint app."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('blueprints') / 'app.sqlite'}"
    elif kind == "postgresql":
        with postgres_database("sockpub_blueprints") as url:
            yield url
    else:
        with mariadb_database("sockpub_blueprints") as url:
            yield url


@pytest.fixture
def fresh_rows(blueprint_server: LiveServer) -> None:
    answer = requests.post(f"{blueprint_server.url}/_testing/reset", timeout=10)
    assert answer.status_code == 200, answer.text


@pytest.fixture(params=["http", "socket"])
def caller(request: pytest.FixtureRequest, blueprint_server: LiveServer) -> Iterator[Caller]:
    made: Any = (
        HttpCaller(blueprint_server.url)
        if request.param == "http"
        else Client(blueprint_server.url)
    )
    yield made
    made.close()


@pytest.fixture
def listener(blueprint_server: LiveServer) -> Iterator[Client]:
    """A second socket, for hearing what the caller's requests publish."""
    with Client(blueprint_server.url) as client:
        yield client


def count(blueprint_server: LiveServer, model: str) -> int:
    return int(
        requests.get(f"{blueprint_server.url}/_testing/count/{model}", timeout=10).json()["count"]
    )


def members(blueprint_server: LiveServer, model: str, id: object) -> list[str]:
    return list(
        requests.get(
            f"{blueprint_server.url}/_testing/subscribers/{model}/{id}", timeout=10
        ).json()["sockets"]
    )


def make_user(caller: Caller, name: str = "Randy", **values: Any) -> dict[str, Any]:
    created = caller.post("/user", {"name": name, **values})
    assert created.status_code == 201, created.body
    return dict(created.body)
