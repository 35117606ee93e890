"""Many real sockets in one process, for test_message_ordering: run as a subprocess.

``python -m tests.drivers.ordering URL`` reads ``{"rooms": [[id, ...], ...],
"plan": [...]}`` on stdin, connects one python-socketio client per entry of
``rooms`` (each joins the class room and those instance rooms), has the
server publish the plan, and prints ``{"received": [[message, ...], ...]}``,
each socket's messages in arrival order.

The process is gevent-patched: a hundred clients are two hundred OS threads
otherwise, and the test would measure thread switching rather than the server
(13 s instead of 4, measured).
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

from flask_sockpub.client import Client  # noqa: E402


def main(url: str) -> None:
    order = json.load(sys.stdin)
    received: list[list[Any]] = [[] for _ in order["rooms"]]
    sockets = []
    try:
        for inbox, ids in zip(received, order["rooms"]):
            socket = Client(url)
            sockets.append(socket)
            socket.on("message", inbox.append)
            assert socket.post("/user/subscribe").body == {"subscribed": True}
            assert socket.post("/user/subscribe/ids", {"ids": ids}).body == {"subscribed": True}
        published = sockets[0].post("/ordering/run", {"plan": order["plan"]}, timeout=60).body
        assert published == {"published": len(order["plan"])}, published
        # Every message was queued for its sockets before /ordering/run
        # answered; an answer on each socket now comes after all of them.
        for socket in sockets:
            assert socket.get("/my/rooms").status_code == 200
    finally:
        for socket in sockets:
            socket.close()
    json.dump({"received": received}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
