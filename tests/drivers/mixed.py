"""Sockets asking questions while their room fans out, for tests/test_fanout.py: run as a subprocess.

``python -m tests.drivers.mixed URL`` reads ``{"sockets": s, "polling": p,
"messages": m, "asks": a}`` on stdin, connects ``s`` python-socketio clients
(the first ``p`` start on long-polling and upgrade, as browsers do), each
joining the room ``news`` of tests/apps/fanout.py, has the server broadcast
``m`` numbered messages, and meanwhile has every socket make ``a`` socket
requests one after the other. It prints ``{"received": [[n, ...], ...],
"answers": [[[asked, answered, published, heard], ...], ...]}``: each socket's
messages in arrival order, and for each of its answers what it asked, what
the answer said, how many messages the server had broadcast when it
answered, and how many of them the socket had heard when the answer came.

gevent-patched, like tests/drivers/ordering.py: every handler of a socket
runs in arrival order.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402

from flask_sockpub.client import Client  # noqa: E402


def ask(socket: Client, inbox: list[Any], asks: int, answers: list[Any]) -> None:
    for asked in range(asks):
        body = socket.get("/ask", {"n": asked}, timeout=60).body
        answers.append([asked, body["n"], body["published"], len(inbox)])
        gevent.sleep(0.005)


def main(url: str) -> None:
    order = json.load(sys.stdin)
    count = order["sockets"]
    received: list[list[Any]] = [[] for _ in range(count)]
    answers: list[list[Any]] = [[] for _ in range(count)]
    sockets = []
    try:
        for number, inbox in enumerate(received):
            polling = number < order["polling"]
            socket = Client(url, transports=("polling", "websocket") if polling else ("websocket",))
            sockets.append(socket)
            socket.on("message", lambda data, inbox=inbox: inbox.append(data["n"]))
            assert socket.post("/news/join").body == {"joined": True}
        started = sockets[0].post("/news/publish", {"count": order["messages"]}).body
        assert started == {"publishing": order["messages"]}, started
        askers = [
            gevent.spawn(ask, socket, inbox, order["asks"], answered)
            for socket, inbox, answered in zip(sockets, received, answers)
        ]
        gevent.joinall(askers, raise_error=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(
            len(inbox) < order["messages"] for inbox in received
        ):
            gevent.sleep(0.05)
    finally:
        for socket in sockets:
            socket.close()
    json.dump({"received": received, "answers": answers}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
