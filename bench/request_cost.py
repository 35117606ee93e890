"""CPU cost of one socket request against the same view over HTTP, in one process.

No network: the socket side goes through the Socket.IO packet layer and the
virtual request (flask_sockpub.testing.SocketTestClient), the HTTP side through
Flask's test client. Both hit the same view. Prints microseconds per request
(CPU time of this process, so other load on the machine matters little).

    .venv/bin/python bench/request_cost.py [--requests 20000]
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable

from flask import Flask

from flask_sockpub import SockPub, param


def make_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "bench"
    SockPub(app, async_mode="threading")

    @app.route("/echo")
    def echo() -> dict[str, object]:
        return {"success": True, "message": param("message")}

    return app


def cpu_per_call(call: Callable[[], object], count: int) -> float:
    for _ in range(min(1000, count)):
        call()
    started = time.process_time()
    for _ in range(count):
        call()
    return (time.process_time() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    app = make_app()
    http = app.test_client()
    socket = app.extensions["sockpub"].sockpub.test_client(app)
    assert socket.get("/echo", {"message": "hi"}).body["message"] == "hi"
    assert http.get("/echo?message=hi").get_json()["message"] == "hi"
    rows = [
        (
            "HTTP, Flask test client",
            cpu_per_call(lambda: http.get("/echo?message=hi"), args.requests),
        ),
        (
            "socket request, test client",
            cpu_per_call(lambda: socket.get("/echo", {"message": "hi"}), args.requests),
        ),
    ]
    base = rows[0][1]
    print(f"{'path':32} {'µs/request':>11} {'ratio':>6}")
    for name, micros in rows:
        print(f"{name:32} {micros:11.1f} {micros / base:6.2f}")


if __name__ == "__main__":
    main()
