"""Two sockets watching users: ``python -m examples.rooms.client http://127.0.0.1:5000``.

Alice lists the users (joining the class room and their instance rooms), Bob
creates, renames, waves at and deletes one; Alice hears each, Bob none of his
own. Prints what Alice received.
"""

from __future__ import annotations

import sys

from flask_sockpub.client import Client
from flask_sockpub.testing import Inbox


def main(url: str) -> None:
    with Client(url) as alice, Client(url) as bob:
        heard = Inbox(alice, "message")
        alice.get("/users")
        randy = bob.post("/users", {"name": "Randy"}).body
        bob.put(f"/users/{randy['id']}", {"name": "Amanda"})
        bob.post(f"/users/{randy['id']}/wave", {"from": "Bob"})
        bob.delete(f"/users/{randy['id']}")
        for message in heard.wait(4):
            print(message.data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000")
