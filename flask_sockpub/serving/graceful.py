"""Graceful shutdown for rolling restarts: stop accepting, finish requests, close the sockets.

Under gunicorn, call :func:`close_sockets_on_shutdown` from the
``post_worker_init`` hook of a gunicorn configuration file (gunicorn reads
``./gunicorn.conf.py`` by itself, or the file named by ``--config``)::

    # gunicorn.conf.py
    def post_worker_init(worker):
        # Imported here, in the worker, after gevent has patched it: the
        # gunicorn master imports this file before any patching.
        from flask_sockpub.serving.graceful import close_sockets_on_shutdown

        close_sockets_on_shutdown(worker)

On SIGTERM, gunicorn stops accepting connections; then this module waits
for the socket requests in flight to be answered (at most
:data:`DRAIN_TIMEOUT` seconds) and closes every socket of the process at the
Engine.IO level, with the reason logged. Clients see a dropped transport
(``"transport close"``), not a server's disconnect, so the browser SDK and
the Python client (``reconnection=True``) reconnect after a randomized delay,
through the load balancer to another process; the SDK then sends its
subscribing requests again. gunicorn's HTTP requests in flight are finished
by gunicorn itself (its ``--graceful-timeout``).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from ..internals import drop_transport
from ..state import app_state

if TYPE_CHECKING:
    from flask import Flask

    from .connections import SocketIO

logger = logging.getLogger("flask_sockpub")

#: Seconds a shutdown waits for the socket requests in flight before closing the sockets.
DRAIN_TIMEOUT = 10.0
#: Seconds gunicorn's gevent worker may take to notice the signal and stop
#: accepting (its main loop wakes once a second).
STOP_ACCEPTING_WAIT = 1.1
#: Why the sockets were closed, as logged.
SHUTDOWN_REASON = "the server process is shutting down"


def close_sockets(
    socketio: SocketIO, reason: str = SHUTDOWN_REASON, drain_timeout: float = DRAIN_TIMEOUT
) -> int:
    """Close every socket this process holds, once its requests in flight are answered.

    Each socket's connection is closed as a lost transport, so that clients
    reconnect by themselves: after a Socket.IO or Engine.IO disconnect from
    the server, socket.io-client and python-socketio do not. Returns how
    many sockets were closed.

    :param reason: logged with the count.
    :param drain_timeout: seconds to wait for the socket requests being
        answered; their answers are sent before the sockets close.
    """
    deadline = time.monotonic() + drain_timeout
    while socketio.requests_in_flight > 0 and time.monotonic() < deadline:
        socketio.sleep(0.05)
    engine = socketio.server.eio
    sids = list(engine.sockets)
    for sid in sids:
        drop_transport(engine, sid)
    if sids:
        logger.warning("closed %d socket(s): %s", len(sids), reason)
    return len(sids)


def close_sockets_on_shutdown(worker: Any) -> None:
    """Close the sockets of a gunicorn ``worker`` once it starts shutting down (gevent workers).

    Call it from gunicorn's ``post_worker_init`` hook (see the module's docs).
    """
    socketio = app_state(flask_app_of(worker.wsgi)).socketio
    socketio.start_background_task(close_sockets_at_shutdown, worker, socketio)


def close_sockets_at_shutdown(worker: Any, socketio: SocketIO) -> None:
    """Wait until ``worker`` is told to stop, then close its sockets, again until it exits.

    Sockets that reached the worker while it was stopping to accept are
    closed on the next round.
    """
    while worker.alive:
        socketio.sleep(0.1)
    socketio.sleep(STOP_ACCEPTING_WAIT)
    while True:
        close_sockets(socketio)
        socketio.sleep(0.5)


def flask_app_of(application: Any) -> Flask:
    """The Flask app gunicorn serves (``app`` itself, or the app of ``app.wsgi_app`` wrappers)."""
    from flask import Flask

    if isinstance(application, Flask):
        return application
    raise TypeError(
        "flask_sockpub.serving.graceful serves Flask apps: gunicorn was given "
        f"{application!r}; point it at the Flask app (module:app or module:create_app())"
    )
