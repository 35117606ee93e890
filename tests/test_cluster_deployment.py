"""The deployment of docs/deployment.rst: 3 gunicorn processes on one Redis, started as documented.

A process killed outright leaves the others' sockets alone; a process told
to stop (SIGTERM) closes its sockets, which reconnect through the balancer
to the others and hear later publishes; Redis going away and coming back
crashes nothing and delivery resumes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from flask_sockpub.client import Client
from tests.cluster_support import Cluster, OwnRedis, own_redis, running_cluster

#: Bound on any wait for a message or a reconnection (never a timing assertion).
WAIT = 30.0


@pytest.fixture(scope="module")
def redis() -> Iterator[OwnRedis]:
    with own_redis() as redis:
        yield redis


@pytest.fixture(scope="module")
def cluster(redis: OwnRedis) -> Iterator[Cluster]:
    """One cluster for the tests that leave it whole, or break it last (it takes seconds to start)."""
    with running_cluster(redis.url) as cluster:
        yield cluster


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    """A cluster for this test alone."""
    with own_redis() as redis, running_cluster(redis.url) as cluster:
        yield cluster


class Listener:
    """A Python client that listed ``/note`` (so it hears every create) and remembers what it heard."""

    def __init__(self, url: str, *, reconnection: bool = False) -> None:
        self.heard: list[str] = []
        self.disconnects: list[str | None] = []
        self.client = Client(url, reconnection=reconnection)
        self.client.on("note", self.noted)
        self.client.on("disconnect", self.disconnects.append)
        self.subscribe()

    def noted(self, message: dict[str, Any]) -> None:
        if message["verb"] == "created":
            self.heard.append(message["data"]["text"])

    def subscribe(self) -> None:
        assert self.client.get("/note").status_code == 200

    def port(self) -> int:
        """The port of the process holding this socket."""
        return int(self.client.get("/whoami").body["port"])

    def close(self) -> None:
        self.client.close()


def post_note(url: str, text: str) -> int:
    """POST a note over HTTP; its status (the note is published to every process)."""
    return requests.post(f"{url}/note", json={"text": text}, timeout=10).status_code


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting {timeout:g} s for {what}")
        time.sleep(0.05)


def publish_until_heard(url: str, listeners: list[Listener], prefix: str) -> str:
    """Publish notes through ``url`` until every listener heard one of them; the first one they all heard."""
    sent: list[str] = []

    def everyone_heard() -> bool:
        text = f"{prefix}-{len(sent)}"
        assert post_note(url, text) == 201
        sent.append(text)
        time.sleep(0.2)
        return all(any(note in listener.heard for note in sent) for listener in listeners)

    wait_until(everyone_heard, f"{prefix} notes to reach every listener")
    return next(note for note in sent if all(note in listener.heard for listener in listeners))


def test_sigterm_during_publishing_moves_its_python_sockets_to_the_others(
    own_cluster: Cluster,
) -> None:
    cluster = own_cluster
    # Through the balancer (round robin): one socket on each process.
    listeners = [Listener(cluster.balancer, reconnection=True) for _ in range(3)]
    publishing = threading.Event()
    published: list[int] = []

    def publish() -> None:
        count = 0
        while not publishing.is_set():
            published.append(post_note(cluster.urls[0], f"during-{count}"))
            count += 1
            time.sleep(0.05)

    publisher = threading.Thread(target=publish)
    try:
        ports = [listener.port() for listener in listeners]
        assert sorted(ports) == [cluster.port(number) for number in range(3)]
        moving = listeners[ports.index(cluster.port(2))]
        staying = [listener for listener in listeners if listener is not moving]
        old_sid = moving.client.sid
        publisher.start()
        wait_until(lambda: len(published) >= 5, "publishing to start")
        cluster.terminate(2)
        wait_until(lambda: not cluster.alive(2), "the terminated process to exit")
        wait_until(
            lambda: moving.client.connected and moving.client.sid != old_sid,
            "the socket to reconnect",
        )
        # A lost transport (how python-engineio names it varies), not a
        # server's disconnect, after which the client would not reconnect.
        assert moving.disconnects in (["transport close"], ["transport error"])
        assert moving.port() in (cluster.port(0), cluster.port(1))
        moving.subscribe()  # the Python client does not resubscribe by itself (documented)
        publishing.set()
        publisher.join()
        assert set(published) == {201}
        publish_until_heard(cluster.urls[1], listeners, "after")
        assert [listener.disconnects for listener in staying] == [[], []]
        assert "closed 1 socket(s): the server process is shutting down" in cluster.log()
    finally:
        publishing.set()
        if publisher.is_alive():
            publisher.join()
        for listener in listeners:
            listener.close()


def test_restarting_redis_while_publishing_crashes_nothing_and_delivery_resumes(
    redis: OwnRedis, cluster: Cluster
) -> None:
    listeners = [Listener(url) for url in cluster.urls[1:]]
    try:
        publish_until_heard(cluster.urls[0], listeners, "before")
        redis.stop()
        # Requests are answered while Redis is away (their messages are lost).
        for count in range(5):
            assert post_note(cluster.urls[0], f"outage-{count}") == 201
            for listener in listeners:
                assert listener.client.get("/note").status_code == 200
        redis.start()
        publish_until_heard(cluster.urls[0], listeners, "after")
        assert all(cluster.alive(number) for number in range(3))
        assert [listener.disconnects for listener in listeners] == [[], []]
    finally:
        for listener in listeners:
            listener.close()


def test_sigkill_of_one_process_leaves_the_sockets_of_the_others_undisturbed(
    cluster: Cluster,
) -> None:
    # Last in the file: it breaks the module's cluster.
    first, second, doomed = (Listener(url) for url in cluster.urls)
    sids = [first.client.sid, second.client.sid]
    try:
        assert [first.port(), second.port(), doomed.port()] == [
            cluster.port(number) for number in range(3)
        ]
        assert post_note(cluster.urls[1], "hello") == 201
        wait_until(lambda: all(it.heard == ["hello"] for it in (first, second, doomed)), "hello")
        cluster.kill(2)
        wait_until(lambda: doomed.disconnects != [], "the killed process's socket to drop")
        assert post_note(cluster.urls[0], "after the kill") == 201
        wait_until(
            lambda: first.heard == second.heard == ["hello", "after the kill"],
            "the note to reach the living processes' sockets",
        )
        assert [first.disconnects, second.disconnects] == [[], []]
        assert [first.client.sid, second.client.sid] == sids
        assert first.client.get("/note").status_code == 200
        assert second.client.get("/note").status_code == 200
        assert cluster.alive(0) and cluster.alive(1)
    finally:
        for listener in (first, second, doomed):
            listener.close()
