"""``flask sockpub publish`` and ``flask sockpub rooms``: a shell reaching a running cluster.

Two real server processes share a Redis channel of this run's own; each
command runs as a process of its own, as an operator would run it, with the
app's queue settings in its environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flask_sockpub.client import Client
from flask_sockpub.cluster import METHOD, queue_manager
from flask_sockpub.internals import publish_on_queue
from flask_sockpub.testing import Inbox, LiveServer, live_servers
from tests.apps.cluster import create_app

pytestmark = pytest.mark.redis

APP = "tests.apps.cluster:create_app"
FLASK = Path(sys.executable).with_name("flask")
QUEUE = "redis://127.0.0.1:6379/0"


@dataclass
class Running:
    """Two server processes, a listing socket on each, and the environment that reaches them."""

    env: dict[str, str]
    channel: str
    servers: list[LiveServer]
    inboxes: list[Inbox]


@pytest.fixture(scope="module")
def alone() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``rooms`` on a channel no server listens to, started at once: it waits for no server to start."""
    channel = f"sockpub-test-{uuid.uuid4().hex}"
    env = {"FLASK_SOCKPUB_MESSAGE_QUEUE": QUEUE, "FLASK_SOCKPUB_QUEUE_CHANNEL": channel}
    rooms = flask_sockpub("rooms", "--timeout", "1", env=env)
    yield channel, rooms
    rooms.kill()
    rooms.communicate()


@pytest.fixture(scope="module")
def running(alone: Any) -> Iterator[Running]:
    channel = f"sockpub-test-{uuid.uuid4().hex}"
    env = {
        "FLASK_SOCKPUB_MESSAGE_QUEUE": QUEUE,
        "FLASK_SOCKPUB_QUEUE_CHANNEL": channel,
        "FLASK_SOCKPUB_HEARTBEAT_INTERVAL": "0.5",
        # Longer than a command takes to start: the servers still count the
        # silent process of the last test when a command asks them.
        "FLASK_SOCKPUB_HEARTBEAT_EXPIRY": "60",
        "FLASK_SOCKPUB_CLUSTER_TIMEOUT": "5",
    }
    with live_servers(APP, 2, env=env) as servers, ExitStack() as stack:
        inboxes = []
        for server in servers:
            client = stack.enter_context(Client(server.url))
            inboxes.append(Inbox(client, "message", "user"))
            # Each socket joins the class room of users.
            assert client.get("/user").status_code == 200
        yield Running(env, channel, servers, inboxes)


def flask_sockpub(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start ``flask --app tests.apps.cluster:create_app sockpub ...`` as a process of its own."""
    environ = {
        key: value for key, value in os.environ.items() if not key.startswith("FLASK_SOCKPUB_")
    }
    environ.update(env, PYTHONPATH=os.getcwd())
    return subprocess.Popen(
        [str(FLASK), "--app", APP, "sockpub", *args],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def succeeded(command: subprocess.Popen[str]) -> str:
    """What ``command`` printed, once it exited with 0."""
    out, err = command.communicate(timeout=60)
    assert command.returncode == 0, err
    return out


def test_publish_and_rooms_reach_every_server_process(running: Running) -> None:
    create = flask_sockpub(
        "publish",
        "user",
        "create",
        "7",
        "--data",
        '{"name": "Kyle", "secret": "s3"}',
        env=running.env,
    )
    assert succeeded(create).endswith(f"published create of user 7 on channel {running.channel}\n")
    for inbox in running.inboxes:
        item = inbox.wait_for(lambda item: item.data.get("verb") == "create")
        assert item.data == {
            "model": "user", "verb": "create", "id": 7, "data": {"id": 7, "name": "Kyle"}
        }  # fmt: skip

    # The create introduced every socket of the class room to user 7: an
    # update reaches them, and ``rooms`` counts them in both rooms (the two
    # commands run at once, as neither changes what the other looks at).
    update = flask_sockpub(
        "publish", "user", "update", "7", "--data", '{"name": "x"}', env=running.env
    )
    rooms = flask_sockpub("rooms", env=running.env)
    succeeded(update)
    for inbox in running.inboxes:
        item = inbox.wait_for(lambda item: item.data.get("verb") == "update")
        assert item.data == {"model": "user", "verb": "update", "id": 7, "data": {"name": "x"}}
    header, dashes, *rows, last = succeeded(rooms).splitlines()
    assert header.split() == ["Kind", "Room", "Sockets"]
    assert sorted(row.split() for row in rows) == [
        ["model", "user", "2"],
        ["model", "user:7", "2"],
    ]
    # The two servers, and the update command if it was still running.
    assert last in (
        "complete: 2 of 2 live processes answered",
        "complete: 3 of 3 live processes answered",
    )


def test_rooms_says_incomplete_when_a_live_process_does_not_answer(running: Running) -> None:
    # A process the servers heard once, before the command started (so only
    # the servers' answers tell the command of it), and which never answers.
    silent = queue_manager(QUEUE, running.channel, write_only=True)
    assert silent is not None
    publish_on_queue(silent, {"method": METHOD, "op": "heartbeat", "host_id": "silent"})
    try:
        rooms = flask_sockpub("rooms", "--timeout", "1", env=running.env)
        *_, last = succeeded(rooms).splitlines()
    finally:
        publish_on_queue(silent, {"method": METHOD, "op": "goodbye", "host_id": "silent"})
    assert last == "incomplete: 2 of 3 live processes answered within 1.0 s"


def test_rooms_fails_when_no_server_process_answers(
    alone: tuple[str, subprocess.Popen[str]],
) -> None:
    channel, rooms = alone
    _, err = rooms.communicate(timeout=60)
    assert rooms.returncode == 1
    assert f"no server process answered within 1.0 s on channel {channel}" in err


@pytest.mark.parametrize("command", [["rooms"], ["publish", "user", "update", "7"]])
def test_without_a_message_queue_the_commands_refuse(command: list[str]) -> None:
    result = create_app().test_cli_runner().invoke(args=["sockpub", *command])
    assert result.exit_code == 1
    assert "needs the app's SOCKPUB_MESSAGE_QUEUE" in result.output
    assert "cannot reach sockets it does not hold" in result.output


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (["usr", "update", "7"], "no model of the app is called 'usr'; its models are post, user"),
        (["user", "update", "seven"], "'seven' is not an id of User"),
        (["user", "update", "7", "--data", "[1]"], "--data must be a JSON object, not [1]"),
        (["user", "update", "7", "--data", "{"], "--data is not JSON"),
    ],
)
def test_publish_explains_what_is_wrong_with_its_arguments(
    arguments: list[str], error: str
) -> None:
    result = create_app().test_cli_runner().invoke(args=["sockpub", "publish", *arguments])
    assert result.exit_code == 1
    assert error in result.output
