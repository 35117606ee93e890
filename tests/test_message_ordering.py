"""Every socket gets every message of its rooms once, in publish order.

A server in a subprocess, in each async mode (under gevent, both ways it
serves WebSockets: simple-websocket, where room emits share one frame per
emit, and gevent-websocket); 100 real WebSocket clients (python-socketio's,
in a second process), each in the class room and in two instance rooms. The
server publishes 1,000 messages of every kind (creates, which also move the
whole class room into new instance rooms; updates; destroys, which empty
rooms; ``publish`` to several rooms at once), yielding to its other work every
ten messages. Each socket's sequence must equal exactly what its rooms were
sent, computed independently here.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from flask_sockpub.testing import LiveServer, live_server
from tests.conftest import variant_environment

SOCKETS = 100
MESSAGES = 1000
FIRST_IDS = list(range(1, 21))


def instance_ids_of(number: int) -> list[int]:
    """The two instance rooms socket ``number`` starts in (ten sockets per room)."""
    return [FIRST_IDS[number % 20], FIRST_IDS[(number * 7 + 3) % 20]]


def make_plan(seed: int) -> list[tuple[str, Any]]:
    chance = random.Random(seed)
    known = list(FIRST_IDS)
    plan: list[tuple[str, Any]] = []
    for number in range(MESSAGES):
        draw = chance.random()
        if draw < 0.1:
            new_id = 1000 + number
            known.append(new_id)
            plan.append(("create", new_id))
        elif draw < 0.2:
            plan.append(("destroy", chance.choice(known)))
        elif draw < 0.4:
            plan.append(("publish", chance.sample(known, 3)))
        else:
            plan.append(("update", chance.choice(known)))
    return plan


def expected_sequences(plan: list[tuple[str, Any]]) -> list[list[tuple[Any, ...]]]:
    """What each socket must receive, by following the rooms as the server should."""
    everyone = set(range(SOCKETS))
    members: dict[int, set[int]] = {}
    for number in range(SOCKETS):
        for id in instance_ids_of(number):
            members.setdefault(id, set()).add(number)
    sequences: list[list[tuple[Any, ...]]] = [[] for _ in range(SOCKETS)]
    for number, (verb, target) in enumerate(plan):
        if verb == "create":
            recipients = set(everyone)
            members.setdefault(target, set()).update(everyone)
            key: tuple[Any, ...] = ("create", target, number)
        elif verb == "update":
            recipients = set(members.get(target, ()))
            key = ("update", target, number)
        elif verb == "destroy":
            recipients = members.pop(target, set())
            key = ("destroy", target)
        else:
            recipients = set().union(*(members.get(id, set()) for id in target))
            key = ("publish", number)
        for socket in recipients:
            sequences[socket].append(key)
    return sequences


def received_key(data: dict[str, Any]) -> tuple[Any, ...]:
    """A message as the plan names it (the seed's message style)."""
    if "verb" not in data:
        return ("publish", data["n"])
    if data["verb"] == "destroy":
        return ("destroy", data["id"])
    return (data["verb"], data["id"], data["data"]["n"])


@pytest.fixture(
    scope="module", params=["gevent+simple-websocket", "gevent", "threading", "eventlet"]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    async_mode, env = variant_environment(request.param, tmp_path_factory)
    with live_server("tests.apps.models:create_app", async_mode=async_mode, env=env) as served:
        yield served


def test_a_hundred_sockets_receive_a_thousand_messages_whole_and_in_order(
    server: LiveServer,
) -> None:
    plan = make_plan(seed=5)
    expected = expected_sequences(plan)
    order = {"rooms": [instance_ids_of(number) for number in range(SOCKETS)], "plan": plan}
    # The sockets live in a process of their own (see tests/drivers/ordering.py).
    driver = subprocess.run(
        [sys.executable, "-m", "tests.drivers.ordering", server.url],
        input=json.dumps(order).encode(),
        capture_output=True,
        timeout=120,
    )
    assert driver.returncode == 0, driver.stderr.decode(errors="replace")[-3000:]
    received = json.loads(driver.stdout)["received"]
    assert len(received) == SOCKETS
    for number in range(SOCKETS):
        assert [received_key(data) for data in received[number]] == expected[number], (
            f"socket {number}"
        )
    assert sum(len(sequence) for sequence in expected) > 20 * MESSAGES  # many sockets per message
