"""Several server processes on one message queue behave as one app.

Three real server processes (and a fourth that no socket reaches until its
tests) share a queue and an SQLite file; clients connect to different
processes. They serve under threading, which starts in half the time gevent
takes (gevent re-executes the interpreter to patch it first); what the
processes say to each other does not depend on the async mode. Every test
runs on Redis and on RabbitMQ. Each run uses a channel (Redis) or exchange
(AMQP) name of its own, so parallel runs on the machine's shared queue servers
never hear each other.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from flask_sockpub import Socket, Subscribers
from flask_sockpub.client import Client
from flask_sockpub.state import app_state
from flask_sockpub.testing import Inbox, LiveServer, Received, live_servers
from tests.apps.cluster import User, create_app, create_database

APP = "tests.apps.cluster:create_app"

QUEUES = {
    "redis": "redis://127.0.0.1:6379/0",
    "amqp": "amqp://guest:guest@127.0.0.1:5672//",
}
#: Short heartbeats, so that a killed process is forgotten within seconds.
HEARTBEAT_INTERVAL = 0.2
HEARTBEAT_EXPIRY = 2.0
#: Creates, updates and destroys in the ordering test, and how many run at once.
ROUNDS = 200
ROUNDS_AT_ONCE = 10


@dataclass
class Cluster:
    """Three server processes on one queue, and a fourth no socket has connected to yet."""

    queue: str
    channel: str
    env: dict[str, str]
    servers: list[LiveServer]
    fourth: LiveServer

    def forgotten(self, server: LiveServer) -> bool:
        """Whether the others have stopped counting ``server`` (its heartbeat expired)."""
        for _ in range(100):
            if call(self.servers[0], "GET", "/cluster/listeners/nobody", timeout=0.3)["complete"]:
                return True
        return False


@pytest.fixture(scope="module", params=sorted(QUEUES))
def cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    channel = f"sockpub-test-{uuid.uuid4().hex}"
    database = tmp_path_factory.mktemp("cluster") / "app.db"
    create_database(str(database))
    env = {
        "FLASK_SOCKPUB_MESSAGE_QUEUE": QUEUES[request.param],
        "FLASK_SOCKPUB_QUEUE_CHANNEL": channel,
        "FLASK_SOCKPUB_HEARTBEAT_INTERVAL": str(HEARTBEAT_INTERVAL),
        "FLASK_SOCKPUB_HEARTBEAT_EXPIRY": str(HEARTBEAT_EXPIRY),
        "FLASK_SOCKPUB_CLUSTER_TIMEOUT": "5",
        "SOCKPUB_TEST_DATABASE": str(database),
    }
    # Four at once: the fourth serves nothing until its tests, which run in
    # the order of this file: first its first socket, then its death.
    with live_servers(APP, 4, env=env) as servers:
        yield Cluster(QUEUES[request.param], channel, env, servers[:3], servers[3])


@pytest.fixture
def fourth(cluster: Cluster) -> LiveServer:
    """The fourth process of the cluster."""
    return cluster.fourth


def call(server: LiveServer, method: str, path: str, body: Any = None, **params: Any) -> Any:
    answer = requests.request(method, server.url + path, json=body, params=params, timeout=30)
    assert answer.status_code < 300, answer.text
    return answer.json()


def listing_socket(server: LiveServer) -> tuple[Client, Inbox]:
    """A socket on ``server`` that listed ``/user``: in the class room, hearing creates."""
    client = Client(server.url)
    inbox = Inbox(client, "message", "user")
    assert client.get("/user", {"limit": 1}).status_code == 200
    return client, inbox


def verbs_by_id(items: list[Received], ids: set[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {key: [] for key in ids}
    for item in items:
        if isinstance(item.data, dict) and item.data.get("id") in ids:
            found[item.data["id"]].append(item.data["verb"])
    return found


def round_trip(cluster: Cluster, number: int, http: requests.Session) -> int:
    """Create a user through process B, then update and destroy it through process C."""
    _, b, c = cluster.servers
    created = http.post(f"{b.url}/user", json={"name": f"round {number}"}, timeout=30)
    assert created.status_code == 201, created.text
    key = created.json()["id"]
    updated = http.put(f"{c.url}/user/{key}", json={"name": f"round {number}, renamed"}, timeout=30)
    assert updated.status_code == 200, updated.text
    assert http.delete(f"{c.url}/user/{key}", timeout=30).status_code == 200
    return int(key)


def test_users_made_on_b_and_changed_on_c_reach_listing_sockets_on_every_process_once_in_order(
    cluster: Cluster,
) -> None:
    listeners = [listing_socket(server) for server in cluster.servers]
    sessions: dict[int, requests.Session] = {}

    def one_round(number: int) -> int:
        http = sessions.setdefault(number % ROUNDS_AT_ONCE, requests.Session())
        return round_trip(cluster, number, http)

    try:
        # Rounds overlap (each one's three steps stay in order), so the queue
        # carries interleaved rounds, as it would under real traffic.
        with ThreadPoolExecutor(ROUNDS_AT_ONCE) as pool:
            ids = set(pool.map(one_round, range(ROUNDS), chunksize=ROUNDS // ROUNDS_AT_ONCE))
        assert len(ids) == ROUNDS
        for client, inbox in listeners:
            inbox.wait(3 * ROUNDS, timeout=60)
            heard = verbs_by_id(inbox.quiet(0.3), ids)
            wrong = {
                key: verbs
                for key, verbs in heard.items()
                if verbs != ["create", "update", "destroy"]
            }
            assert wrong == {}, f"socket on {client.url}"
    finally:
        for client, _ in listeners:
            client.close()


def test_a_process_without_any_connection_yet_introduces_its_first_socket(
    cluster: Cluster, fourth: LiveServer
) -> None:
    client, inbox = listing_socket(fourth)
    with client:
        key = round_trip(cluster, 0, requests.Session())
        inbox.wait(3)
        assert verbs_by_id(inbox.quiet(0.3), {key}) == {key: ["create", "update", "destroy"]}


def test_subscribers_lists_the_sockets_of_every_process(cluster: Cluster) -> None:
    room = uuid.uuid4().hex
    with ExitStack() as stack:
        clients = [stack.enter_context(Client(server.url)) for server in cluster.servers]
        for client in clients:
            assert client.get(f"/cluster/listen/{room}").body == {"listening": True}
        everyone = sorted(client.sid for client in clients if client.sid)
        for server in cluster.servers:
            assert call(server, "GET", f"/cluster/listeners/{room}") == {
                "sids": everyone,
                "complete": True,
            }
        # Model rooms too: the class room of User, seen from process C.
        for client in clients:
            assert client.get("/user", {"limit": 1}).status_code == 200
        listed = call(cluster.servers[2], "GET", "/cluster/user-subscribers")
        assert set(everyone) <= set(listed["sids"]) and listed["complete"]


def test_subscribers_is_incomplete_while_a_killed_process_counts_then_complete_over_the_living(
    cluster: Cluster, fourth: LiveServer
) -> None:
    room = uuid.uuid4().hex
    a = cluster.servers[0]
    with Client(a.url) as on_a:
        on_fourth = Client(fourth.url)
        for client in (on_a, on_fourth):
            assert client.get(f"/cluster/listen/{room}").body == {"listening": True}
        listed = call(a, "GET", f"/cluster/listeners/{room}")
        assert listed == {"sids": sorted([on_a.sid, on_fourth.sid]), "complete": True}

        fourth.process.kill()  # SIGKILL: no goodbye
        fourth.process.wait(timeout=10)
        on_fourth.sio.disconnect()
        # The dead process is still counted: the answer comes after the
        # timeout (the request's own timeout is the hang guard), incomplete.
        listed = call(a, "GET", f"/cluster/listeners/{room}", timeout=0.5)
        assert listed == {"sids": [on_a.sid], "complete": False}
        # Once its heartbeat expired, the living processes make a whole answer.
        assert cluster.forgotten(fourth)
        listed = call(a, "GET", f"/cluster/listeners/{room}", timeout=0.5)
        assert listed == {"sids": [on_a.sid], "complete": True}
        # The other processes' sockets were not disturbed.
        assert on_a.get("/cluster/me").status_code == 200


def test_publish_destroy_keeps_an_omitted_socket_of_another_process_and_empties_the_others(
    cluster: Cluster,
) -> None:
    a, b, c = cluster.servers
    key = call(b, "POST", "/user", {"name": "to be destroyed"})["id"]
    with Client(a.url) as on_a, Client(c.url) as on_c, Client(c.url) as also_on_c:
        inboxes = {client.sid: Inbox(client, "message") for client in (on_a, on_c, also_on_c)}
        for client in (on_a, on_c, also_on_c):
            assert client.get(f"/user/{key}").status_code == 200
        kept = on_c.sid
        call(b, "POST", "/cluster/destroy", {"id": key, "omit": kept})
        for sid, inbox in inboxes.items():
            if sid != kept:
                [destroyed] = inbox.wait(1)
                assert destroyed.data == {"model": "user", "verb": "destroy", "id": key}
        assert call(a, "GET", "/cluster/user-subscribers", id=key) == {
            "sids": [kept],
            "complete": True,
        }
        # What is published to the instance later reaches the kept socket only.
        call(b, "PUT", f"/user/{key}", {"name": "still here"})
        [updated] = inboxes[kept].wait(1)
        assert updated.data["verb"] == "update"
        assert all(len(inbox.quiet(0.2)) == 1 for inbox in inboxes.values())


def test_a_socket_held_elsewhere_is_subscribed_and_unsubscribed_where_it_lives(
    cluster: Cluster,
) -> None:
    a, _, c = cluster.servers
    key = call(a, "POST", "/user", {"name": "watched from afar"})["id"]
    room = f"sockpub:model:user:{key}"
    with Client(c.url) as on_c:
        assert call(a, "POST", "/cluster/subscribe", {"sid": on_c.sid, "ids": [key]}) == {
            "subscribed": True
        }
        assert room in on_c.get("/cluster/rooms").body["rooms"]
        assert call(a, "POST", "/cluster/unsubscribe", {"sid": on_c.sid, "ids": [key]}) == {
            "unsubscribed": True
        }
        assert room not in on_c.get("/cluster/rooms").body["rooms"]


def test_an_unknown_socket_id_gets_the_same_answer_with_and_without_a_queue(
    cluster: Cluster,
) -> None:
    unknown = {"sid": "no-such-socket"}
    alone = create_app().test_client()
    for path, key in (
        ("/cluster/subscribe", "subscribed"),
        ("/cluster/unsubscribe", "unsubscribed"),
    ):
        without_queue = alone.post(path, json=unknown).get_json()
        assert without_queue == {key: False}
        for server in cluster.servers:
            assert call(server, "POST", path, unknown) == without_queue


EMITTER_SCRIPT = """
import sys
from flask_sockpub import SockPub
from tests.apps.cluster import User

queue, channel, room, key = sys.argv[1:]
for style in ("message", "model"):
    emitter = SockPub.emitter(queue, event_style=style, channel=channel)
    emitter.broadcast(room, {"hello": style}, event="news")
    users = emitter.model(User)
    users.publish_create({"id": int(key), "name": "made by a worker"})
    users.publish_update(int(key), {"name": "changed by a worker"})
    users.publish_destroy(int(key))
"""


def test_an_emitter_in_a_plain_process_reaches_subscribers_on_every_process_in_both_styles(
    cluster: Cluster,
) -> None:
    room = uuid.uuid4().hex
    key = 10_000_000 + uuid.uuid4().int % 1_000_000  # an id no row has: nothing is loaded
    created = {"id": key, "name": "made by a worker"}
    updated = {"name": "changed by a worker"}
    expected = [
        ("news", {"hello": "message"}),
        ("message", {"model": "user", "verb": "create", "id": key, "data": created}),
        ("message", {"model": "user", "verb": "update", "id": key, "data": updated}),
        ("message", {"model": "user", "verb": "destroy", "id": key}),
        ("news", {"hello": "model"}),
        ("user", {"verb": "created", "id": key, "data": created}),
        ("user", {"verb": "updated", "id": key, "data": updated}),
        ("user", {"verb": "destroyed", "id": key}),
    ]
    root = Path(__file__).resolve().parent.parent
    with ExitStack() as stack:
        clients = [stack.enter_context(Client(server.url)) for server in cluster.servers]
        inboxes = [Inbox(client, "news", "message", "user") for client in clients]
        for client in clients:
            assert client.get(f"/cluster/listen/{room}").body == {"listening": True}
            assert client.get("/user", {"limit": 1}).status_code == 200
        subprocess.run(
            [sys.executable, "-c", EMITTER_SCRIPT, cluster.queue, cluster.channel, room, str(key)],
            check=True,
            timeout=60,
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
        )
        for inbox in inboxes:
            inbox.wait(len(expected))
            assert [tuple(item) for item in inbox.quiet(0.2)] == expected
        # Each destroy emptied the instance room on every process.
        listed = call(cluster.servers[0], "GET", "/cluster/user-subscribers", id=key)
        assert listed == {"sids": [], "complete": True}


def test_scoped_sockets_hear_a_row_enter_and_leave_their_scope_whichever_process_changes_it(
    cluster: Cluster,
) -> None:
    a, b, c = cluster.servers
    alice, bob = {"X-Owner": "alice"}, {"X-Owner": "bob"}
    with ExitStack() as stack:
        # One scope held on two processes (each hears every message once), another on one.
        sockets = [
            (stack.enter_context(Client(server.url)), headers)
            for server, headers in [(a, alice), (c, alice), (c, bob)]
        ]
        inboxes = [Inbox(client, "message") for client, _ in sockets]
        for client, headers in sockets:
            assert client.get("/post", headers=headers).status_code == 200
        http = requests.Session()
        created = http.post(f"{b.url}/post", json={"owner": "alice", "title": "t"}, headers=alice)
        key = created.json()["id"]
        for owner, change in [
            ("alice", {"title": "edited"}),
            ("alice", {"owner": "bob"}),
            ("bob", {"title": "bob's now"}),
            ("bob", {"owner": "alice"}),
        ]:
            answer = http.patch(f"{b.url}/post/{key}", json=change, headers={"X-Owner": owner})
            assert answer.status_code == 200, answer.text
        expected_alice = ["create", "update", "leave", "enter"]
        expected = [expected_alice, expected_alice, ["enter", "update", "leave"]]
        for inbox, verbs in zip(inboxes, expected):
            inbox.wait(len(verbs))
        for inbox, verbs in zip(inboxes, expected):
            assert [item.data["verb"] for item in inbox.quiet(0.3)] == verbs
        last = {"id": key, "owner": "alice", "title": "bob's now"}
        assert inboxes[0].items[-1].data["data"] == last


def test_one_process_answers_subscribers_completely_as_a_list_of_sockets() -> None:
    app = create_app()
    state = app_state(app)
    socket = state.sockpub.test_client(app)
    room = "lobby"
    assert socket.get(f"/cluster/listen/{room}").body == {"listening": True}
    assert socket.get("/user").status_code == 200
    with app.app_context():
        for found in (state.sockpub.subscribers(room), User.subscribers()):
            assert isinstance(found, Subscribers) and found.complete
            assert found == [Socket(state.server, socket.sid or "")]
            assert [member.id for member in found] == [socket.sid]
    assert socket.get("/cluster/listeners/lobby").body == {"sids": [socket.sid], "complete": True}
    socket.disconnect()
