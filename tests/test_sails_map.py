"""The Coming-from-Sails page maps every Sails name a user of Sails 0.9 and 1.x knows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "coming-from-sails.rst"

#: Every Sails name the page must map, as it appears there.
SAILS_NAMES = [
    "req.socket",
    "req.listen",
    "res.broadcast",
    "req.param",
    "sails.io",
    "Model.subscribe",
    "Model.unsubscribe",
    "Model.publishCreate",
    "Model.publishUpdate",
    "Model.publishDestroy",
    "Model.introduce",
    "Model.publish",
    "Model.room",
    "Model.subscribers",
    "sails.sockets.join",
    "sails.sockets.leave",
    "sails.sockets.broadcast",
    "sails.sockets.blast",
    "sails.sockets.id",
    "where",
    "limit",
    "skip",
    "sort",
    "shortcuts",
    "config/sockets.js",
    "config/blueprints.js",
    "io.socket.get",
    "io.socket.post",
    "io.socket.put",
    "io.socket.delete",
    "io.socket.on",
    "req.socket.watch",
    "req.socket.subscribeTo",
]


def table_rows() -> list[tuple[str, str]]:
    """(Sails cell, flask_sockpub cell) of every row of the page's two-column tables."""
    rows = []
    for line in PAGE.read_text().splitlines():
        match = re.match(r"^(``.+?``(?: \(.+?\))?(?:, ``.+?``)*)\s{2,}(\S.*)$", line)
        if match:
            rows.append((match.group(1), match.group(2)))
    return rows


@pytest.mark.parametrize("name", SAILS_NAMES)
def test_every_sails_name_has_a_mapping(name: str) -> None:
    mapped = [ours for sails, ours in table_rows() if f"``{name}" in sails]
    assert mapped, f"{name} is not in a table row of the page"
    assert all(ours.strip() for ours in mapped)


@pytest.mark.parametrize(
    "difference",
    [
        "Shortcut routes are off by default",
        "Unknown list parameters are refused",
        "Who hears their own broadcast",
        "Sockets without a cookie are accepted",
        "Rooms follow authorisation",
    ],
)
def test_every_deliberate_difference_is_explained(difference: str) -> None:
    text = PAGE.read_text()
    assert difference in text
    explanation = text.partition(difference)[2].split("\n\n")[0]
    assert len(explanation.split()) > 10


def test_the_two_message_styles_are_shown() -> None:
    text = PAGE.read_text()
    assert 'SOCKPUB_EVENT_STYLE = "message"' in text
    assert 'SOCKPUB_EVENT_STYLE = "model"' in text
