"""Every ``SOCKPUB_*`` setting is documented, read, and has a test that changes it and sees the difference.

``config.DEFAULTS`` is the list: ``init_app``'s docstring names exactly its
keys, the package reads each of them, and :data:`EFFECT_TESTS` names, per
key, a test that sets a value other than the default and observes what it
changes. The cluster settings are observed here against Redis, with this
process's app and a peer played by hand on the app's channel.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask, session

from flask_sockpub import SockPub, broadcast, config, listen, user_room
from flask_sockpub.identity import FOLLOW_ENDPOINT
from flask_sockpub.state import app_state
from flask_sockpub.testing import SocketTestClient

ROOT = Path(__file__).resolve().parent.parent
REDIS = "redis://127.0.0.1:6379/0"

#: Per key, the test that sets it to a value other than its default and observes the effect.
EFFECT_TESTS = {
    "SOCKPUB_MESSAGE_QUEUE": "tests/test_settings.py::test_the_message_queue_and_channel_carry_the_apps_messages",
    "SOCKPUB_QUEUE_CHANNEL": "tests/test_settings.py::test_the_message_queue_and_channel_carry_the_apps_messages",
    "SOCKPUB_HEARTBEAT_INTERVAL": "tests/test_settings.py::test_the_heartbeat_interval_sets_how_often_a_process_beats",
    "SOCKPUB_HEARTBEAT_EXPIRY": "tests/test_settings.py::test_the_heartbeat_expiry_sets_when_a_silent_peer_is_forgotten",
    "SOCKPUB_CLUSTER_TIMEOUT": "tests/test_settings.py::test_the_cluster_timeout_sets_how_long_subscribers_waits_for_peers",
    "SOCKPUB_CORS_ALLOWED_ORIGINS": "tests/test_security.py::test_allowed_origins_connect_besides_the_same_origin_and_others_are_still_refused",
    "SOCKPUB_EVENT_STYLE": "tests/test_autopublish.py::test_a_plain_view_publishes_each_commit_once_and_the_listing_socket_is_introduced",
    "SOCKPUB_CLIENT_URL": "tests/test_sdk_route.py::test_sockpub_client_url_moves_the_sdk_and_none_disables_it",
    "SOCKPUB_MAX_PAYLOAD": "tests/test_app_settings.py::test_an_apps_max_payload_limits_the_body_of_its_socket_requests",
    "SOCKPUB_WEBSOCKET_COMPRESSION": "tests/test_security.py::test_compression_is_accepted_when_configured",
    "SOCKPUB_MAX_URL_LENGTH": "tests/test_app_settings.py::test_an_apps_max_url_length_is_the_limit_of_its_socket_requests",
    "SOCKPUB_AUTO_PUBLISH": "tests/test_autopublish.py::test_auto_publish_publishes_every_pubsub_model_but_those_that_opt_out",
    "SOCKPUB_PROTECTED_HEADERS": "tests/test_proxies.py::test_the_setting_protects_the_apps_own_headers_and_keeps_origin_cookie_and_host",
    "SOCKPUB_TRUSTED_PROXIES": "tests/test_proxies.py::test_payload_headers_cannot_replace_what_the_proxy_set_on_the_handshake",
    "SOCKPUB_MAX_REQUESTS_IN_FLIGHT": "tests/test_limits.py::test_the_in_flight_cap_is_the_apps_setting",
    "SOCKPUB_MAX_REQUESTS_RUNNING": "tests/test_limits.py::test_the_running_cap_is_the_apps_setting",
    "SOCKPUB_MAX_REQUESTS_PER_SECOND": "tests/test_limits.py::test_requests_past_the_rate_limit_get_429_and_other_sockets_are_answered",
    "SOCKPUB_MAX_SOCKETS_PER_ADDRESS": "tests/test_limits.py::test_sockets_past_the_cap_per_address_are_refused_until_one_leaves",
    "SOCKPUB_MAX_QUEUED_BYTES": "tests/test_limits.py::test_the_queue_bound_is_the_apps_setting",
    "SOCKPUB_REFUSED_LOG_RATE": "tests/test_limits.py::test_refused_events_log_a_bounded_number_of_lines",
    "SOCKPUB_MAX_BINARY_BYTES": "tests/test_limits.py::test_binary_attachments_within_the_setting_reach_a_plain_handler",
    "SOCKPUB_SESSION_IDENTITY": "tests/test_settings.py::test_the_session_identity_names_who_a_session_belongs_to",
    "SOCKPUB_SESSION_FOLLOW_URL": "tests/test_settings.py::test_the_session_follow_url_moves_or_removes_the_follow_route",
}  # fmt: skip


def test_init_app_documents_exactly_the_settings_of_config_defaults() -> None:
    documented = set(re.findall(r"``(SOCKPUB_[A-Z_]+)``", SockPub.init_app.__doc__ or ""))
    assert documented == set(config.DEFAULTS)


def test_the_package_reads_every_setting() -> None:
    sources = "\n".join(
        path.read_text()
        for path in (ROOT / "flask_sockpub").rglob("*.py")
        if path.name != "config.py"
    )
    unread = [key for key in config.DEFAULTS if f'"{key}"' not in sources]
    assert unread == []


def test_every_setting_has_a_test_that_changes_it_and_observes_the_effect() -> None:
    assert set(EFFECT_TESTS) == set(config.DEFAULTS)
    for key, test in EFFECT_TESTS.items():
        path, name = test.split("::")
        source = (ROOT / path).read_text()
        assert f"def {name}(" in source, test
        assert key in source, f"{path} never sets {key}"


# Identity


def identity_app(**settings: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="settings", **settings)
    SockPub(app)

    @app.post("/join")
    def join() -> dict[str, bool]:
        return {"joined": listen("account room")}

    @app.post("/account/<name>")
    def account(name: str) -> dict[str, str]:
        session["account"] = name
        return {"account": name}

    return app


@pytest.mark.parametrize("identity", [None, "account"])
def test_the_session_identity_names_who_a_session_belongs_to(identity: str | None) -> None:
    settings = (
        {}
        if identity is None
        else {"SOCKPUB_SESSION_IDENTITY": lambda session: session.get("account")}
    )
    app = identity_app(**settings)
    socket = SocketTestClient(app)
    assert socket.post("/join").body == {"joined": True}
    changed = socket.post("/account/ada")
    room = user_room("account room")
    if identity is None:  # Flask-Login's _user_id, which "account" is not
        assert "X-Sockpub-Identity-Changed" not in changed.headers
        assert room in app_state(app).server.rooms(socket.sid)
    else:
        assert changed.headers["X-Sockpub-Identity-Changed"] == "1"
        assert room not in app_state(app).server.rooms(socket.sid)
    socket.disconnect()


@pytest.mark.parametrize(
    ("setting", "rule"),
    [
        ("/sockpub/session", "/sockpub/session/<token>"),
        ("/follow", "/follow/<token>"),
        (None, None),
    ],
)
def test_the_session_follow_url_moves_or_removes_the_follow_route(
    setting: str | None, rule: str | None
) -> None:
    app = Flask(__name__)
    app.config["SOCKPUB_SESSION_FOLLOW_URL"] = setting
    SockPub(app)
    follow_rules = [
        str(found) for found in app.url_map.iter_rules() if found.endpoint == FOLLOW_ENDPOINT
    ]
    assert follow_rules == ([] if rule is None else [rule])
    if rule is not None:
        # An unknown token is refused, not served: the route is there.
        assert app.test_client().post(rule.replace("<token>", "nope")).status_code in (403, 404)


# The cluster's settings, observed on the queue


def queue_app(**settings: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="settings", SOCKPUB_MESSAGE_QUEUE=REDIS, **settings)
    SockPub(app)
    return app


@pytest.fixture
def channel() -> str:
    return f"sockpub-test-{uuid.uuid4().hex}"


@pytest.fixture
def heard(channel: str) -> Iterator[Callable[[Callable[[dict[str, Any]], bool], float], int]]:
    """``heard(wanted, timeout)``: wait until the channel carried a wanted message; how many so far."""
    connection = redis.Redis.from_url(REDIS)
    listener = connection.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(channel)
    seen: list[dict[str, Any]] = []

    def wait(wanted: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = listener.get_message(timeout=0.1)
            if message is not None:
                seen.append(json.loads(message["data"]))
            count = sum(1 for item in seen if wanted(item))
            if count:
                return count
        return 0

    yield wait
    listener.close()
    connection.close()


def stopped(app: Flask) -> None:
    cluster = app_state(app).rooms.cluster
    assert cluster is not None
    cluster.stop()


def test_the_message_queue_and_channel_carry_the_apps_messages(channel: str, heard: Any) -> None:
    app = queue_app(SOCKPUB_QUEUE_CHANNEL=channel)
    with app.app_context():
        broadcast("lobby", {"text": "on the queue"})
    assert heard(
        lambda item: item.get("method") == "emit" and item.get("data") == [{"text": "on the queue"}]
    )
    stopped(app)


def test_the_heartbeat_interval_sets_how_often_a_process_beats(channel: str, heard: Any) -> None:
    app = queue_app(SOCKPUB_QUEUE_CHANNEL=channel, SOCKPUB_HEARTBEAT_INTERVAL=0.05)
    host = app_state(app).rooms.cluster.host_id
    beats = 0
    # Five beats come within a second at 0.05 s; at the default 5 s, one at most in ten.
    deadline = time.monotonic() + 10
    while beats < 5 and time.monotonic() < deadline:
        beats = heard(
            lambda item: item.get("op") == "heartbeat" and item.get("host_id") == host, 0.5
        )
    assert beats >= 5
    stopped(app)


def say(channel: str, op: str, host: str, **fields: Any) -> None:
    """Publish one of SockPub's messages on ``channel`` as the process ``host``."""
    with redis.Redis.from_url(REDIS) as connection:
        message = {"method": "sockpub", "op": op, "host_id": host, **fields}
        connection.publish(channel, json.dumps(message))


def test_the_heartbeat_expiry_sets_when_a_silent_peer_is_forgotten(channel: str) -> None:
    app = queue_app(SOCKPUB_QUEUE_CHANNEL=channel, SOCKPUB_HEARTBEAT_EXPIRY=0.3)
    cluster = app_state(app).rooms.cluster
    peer = uuid.uuid4().hex
    say(channel, "hello", peer)
    # Known once its hello arrives, forgotten 0.3 s after (15 s by default).
    for expected in (True, False):
        deadline = time.monotonic() + 10
        while (peer in cluster.live_peers()) != expected and time.monotonic() < deadline:
            time.sleep(0.02)
        assert (peer in cluster.live_peers()) == expected
    stopped(app)


def test_the_cluster_timeout_sets_how_long_subscribers_waits_for_peers(channel: str) -> None:
    app = queue_app(SOCKPUB_QUEUE_CHANNEL=channel, SOCKPUB_CLUSTER_TIMEOUT=0.2)
    cluster = app_state(app).rooms.cluster
    peer = uuid.uuid4().hex
    say(channel, "hello", peer)
    deadline = time.monotonic() + 10
    while peer not in cluster.live_peers() and time.monotonic() < deadline:
        time.sleep(0.02)
    # The peer answers each question a second late: past 0.2 s, within the default 2 s.
    connection = redis.Redis.from_url(REDIS)
    questions = connection.pubsub(ignore_subscribe_messages=True)
    questions.subscribe(channel)
    stop = threading.Event()

    def answer_late() -> None:
        while not stop.is_set():
            message = questions.get_message(timeout=0.1)
            if message is None:
                continue
            asked = json.loads(message["data"])
            if asked.get("op") == "members":
                time.sleep(1.0)
                say(
                    channel,
                    "answer",
                    peer,
                    to=asked["host_id"],
                    question=asked["question"],
                    sids=[],
                )

    answering = threading.Thread(target=answer_late, daemon=True)
    answering.start()
    try:
        with app.app_context():
            assert not app_state(app).sockpub.subscribers("lobby").complete
            assert app_state(app).sockpub.subscribers("lobby", timeout=5).complete
    finally:
        stop.set()
        answering.join(5)
        questions.close()
        connection.close()
        stopped(app)
