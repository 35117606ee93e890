"""A rolling restart seen from Chromium: the SDK's socket moves to another process and hears again.

The cluster is examples/cluster started as docs/deployment.rst says, with its
round-robin balancer (the load balancer stand-in) in front; the page is
served through the balancer, so its socket reconnects through it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
import requests
from playwright.sync_api import Page

from tests.cluster_support import Cluster, own_redis, running_cluster

#: Bound on the page's reconnection: the SDK's back-off is 1 s doubling up to
#: 5 s, +-50% jitter.
RECONNECT_WAIT_MS = 20000
WAIT = 30.0


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    with own_redis() as redis, running_cluster(redis.url) as cluster:
        yield cluster


def post_note(url: str, text: str) -> None:
    assert requests.post(f"{url}/note", json={"text": text}, timeout=10).status_code == 201


def test_sigterm_moves_the_sdk_socket_to_another_process_which_it_resubscribes_on(
    cluster: Cluster, open_page: Callable[..., Page]
) -> None:
    page = open_page(cluster.balancer + "/")
    page.wait_for_function("() => window.seen.notes.length === 1")
    port = page.evaluate("() => socket.get('/whoami').then((body) => body.port)")
    number = [cluster.port(n) for n in range(3)].index(port)
    living = cluster.urls[(number + 1) % 3]
    post_note(living, "before")
    page.wait_for_function("() => window.seen.creates.includes('before')")

    stop = threading.Event()

    def publish() -> None:  # publishing goes on while the process stops
        count = 0
        while not stop.is_set():
            post_note(living, f"during-{count}")
            count += 1
            time.sleep(0.1)

    publisher = threading.Thread(target=publish)
    publisher.start()
    try:
        cluster.terminate(number)
        page.wait_for_function(
            "() => window.seen.reconnects.length === 1", timeout=RECONNECT_WAIT_MS
        )
    finally:
        stop.set()
        publisher.join()
    # The SDK sent GET /note again: the new process put the new socket in the class room.
    page.wait_for_function("() => window.seen.notes.length === 2")
    assert page.evaluate("() => window.seen.reconnects") == [{"resubscribed": 1}]
    assert page.evaluate("() => window.seen.disconnects") == 1
    new_port = page.evaluate("() => socket.get('/whoami').then((body) => body.port)")
    assert new_port != port
    deadline = time.monotonic() + WAIT
    sent = 0
    while f"after-{sent - 1}" not in page.evaluate("() => window.seen.creates"):
        assert time.monotonic() < deadline, "no note published after the reconnect reached the page"
        post_note(living, f"after-{sent}")
        sent += 1
        time.sleep(0.2)
