"""Where SockPub applies :mod:`flask_sockpub.limits` to python-socketio's events and Engine.IO's queues.

The policy is :mod:`flask_sockpub.limits`; the hooks into the dependencies'
private event path and queues are :mod:`flask_sockpub.internals`
(:func:`~flask_sockpub.internals.intercept_events`,
:func:`~flask_sockpub.internals.queued_packets`, ...). Here:

* each event packet is admitted or refused (429) in the socket's reader, as
  it is read, before any work is queued for it; of a socket's admitted
  events, at most ``SOCKPUB_MAX_REQUESTS_RUNNING`` run at once;
* Engine.IO's public ``send_packet``, through which every packet goes, is
  wrapped on the server instance to measure each socket's outgoing queue.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import internals
from .limits import Limits
from .wire.jwr import error_answer
from .wire.socket_request import is_legacy

if TYPE_CHECKING:
    import socketio

logger = logging.getLogger("flask_sockpub")

#: How long a socket with a backlog yields between two of its events: not 0,
#: since gevent's ``sleep(0)`` lets other greenlets run but polls no socket.
YIELD_SECONDS = 0.0001

#: What a queued packet costs besides its data, roughly (the packet object, the queue's slot).
PACKET_OVERHEAD = 64


def install(server: socketio.Server, limits: Limits) -> None:
    """Apply ``limits`` to the events and outgoing queues of ``server``."""
    running = limits.settings.max_running
    semaphore = semaphore_class(server.eio.async_mode)

    def admit_event(
        eio_sid: str,
        namespace: str | None,
        id: int | None,
        data: list[Any],
        proceed: Callable[[], None],
    ) -> None:
        environ = internals.connection_environ(server, eio_sid)
        sid = server.manager.sid_from_eio_sid(eio_sid, namespace or "/")
        if environ is None or sid is None or not server.manager.is_connected(sid, namespace or "/"):
            proceed()  # python-socketio logs and drops it
            return
        socket = limits.of_socket(environ)
        if socket.in_flight >= running:
            # A socket with a backlog (pipelined requests): its reader lets
            # the other sockets run between two of its events, rather than
            # reading its whole backlog before anyone else's turn comes.
            server.sleep(YIELD_SECONDS)
        refusal = limits.refusal(socket)
        if refusal is not None:
            refuse(server, limits, environ, eio_sid, sid, namespace, id, data, refusal)
            return
        socket.in_flight += 1
        try:
            proceed()
        except BaseException:
            socket.in_flight -= 1
            raise

    def run_event(eio_sid: str, proceed: Callable[[], None]) -> None:
        environ = internals.connection_environ(server, eio_sid)
        if environ is None:  # gone already
            proceed()
            return
        socket = limits.of_socket(environ)
        try:
            if socket.running is None:
                socket.running = semaphore(running)
            # At most `running` events of one socket run at once; its other
            # events in flight wait here, out of the other sockets' way.
            with socket.running:
                proceed()
        finally:
            socket.in_flight -= 1

    internals.intercept_events(server, admit_event, run_event)
    bound_queues(server, limits)


def semaphore_class(async_mode: str) -> Any:
    """The semaphore class greenlets or threads of ``async_mode`` share."""
    if async_mode == "gevent":
        from gevent.lock import Semaphore

        return Semaphore
    if async_mode == "eventlet":
        from eventlet.semaphore import Semaphore as EventletSemaphore

        return EventletSemaphore
    return threading.Semaphore


def refuse(
    server: socketio.Server,
    limits: Limits,
    environ: dict[str, Any],
    eio_sid: str,
    sid: str,
    namespace: str | None,
    id: int | None,
    data: list[Any],
    reason: str,
) -> None:
    """Answer an event with a 429 at once, under its acknowledgement id if it has one."""
    event = str(data[0])[:80] if data else "?"
    limits.log_refusal(environ, "%s %s <refused> 429 %s", sid, event, reason)
    if id is not None:
        internals.send_ack(
            server, eio_sid, namespace, id, [error_answer(429, reason, is_legacy(tuple(data[1:])))]
        )


def bound_queues(server: socketio.Server, limits: Limits) -> None:
    """Disconnect a socket whose outgoing queue holds more than ``SOCKPUB_MAX_QUEUED_BYTES``, dropping the queue."""
    eio = server.eio
    send_packet = eio.send_packet
    max_bytes = limits.settings.max_queued_bytes

    def bounded_send_packet(eio_sid: str, pkt: Any) -> None:
        environ = internals.connection_environ(server, eio_sid)
        queued = limits.of_socket(environ).queued if environ is not None else None
        if queued is not None and queued.overflowed:
            return  # being disconnected: nothing more is queued for it
        send_packet(eio_sid, pkt)
        if queued is None:
            return
        waiting = internals.queued_packets(eio, eio_sid)
        if waiting is None:
            return
        data = pkt.data
        size = PACKET_OVERHEAD + (len(data) if isinstance(data, (str, bytes)) else 0)
        if queued.add(size, waiting) > max_bytes:
            queued.overflowed = True
            overflow(server, eio_sid, queued.total, max_bytes)

    eio.send_packet = bounded_send_packet  # type: ignore[method-assign]


def overflow(server: socketio.Server, eio_sid: str, total: int, max_bytes: int) -> None:
    """Drop the queue of a socket that does not read what it is sent, and disconnect it."""
    sid = server.manager.sid_from_eio_sid(eio_sid, "/") or eio_sid
    logger.warning(
        "socket %s disconnected: %d bytes were queued for it, more than SOCKPUB_MAX_QUEUED_BYTES "
        "(%d); its client does not read what it is sent",
        sid, total, max_bytes,
    )  # fmt: skip
    internals.drop_queued_packets(server.eio, eio_sid)
    # Not here: a broadcast may be iterating over the rooms the socket leaves.
    server.start_background_task(server.eio.disconnect, eio_sid)
