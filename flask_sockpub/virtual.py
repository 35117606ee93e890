"""Socket requests replayed through Flask: payload -> WSGI environ -> the app -> JWR.

A socket request is dispatched into Flask's own ``wsgi_app`` inside a fresh app
context, so routing, converters, every request hook, error handlers, view
decorators, ``g`` and the session behave exactly as they do over HTTP. The
answer is a JWR (JSON WebSocket Response): ``{"body", "statusCode", "headers"}``.
"""

from __future__ import annotations

import logging
from io import BytesIO
from time import perf_counter
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from flask import Flask, has_app_context

from .identity import (
    CHANGED_KEY,
    IDENTITY_CHANGED_HEADER,
    SESSION_FOLLOW_HEADER,
    follow_url,
    rotated_session,
    track_session,
)
from .limits import log_refusal
from .sessions import keep_session_cookie, use_socket_session
from .sockets import SUBSCRIBED_HEADER, Socket, mark_socket_request, subscribed_own_socket
from .state import app_state
from .wire.jwr import JWR, error_answer, error_jwr, legacy_answer, response_jwr
from .wire.socket_request import (
    METHODS,
    BadPayload,
    MalformedPayload,
    SocketRequest,
    is_legacy,
    message_method,
    parse_request,
)

if TYPE_CHECKING:
    import socketio

access_log = logging.getLogger("flask_sockpub.access")
logger = logging.getLogger("flask_sockpub")

#: Connection environ key of the environ every virtual request of a socket starts from.
BASE_ENVIRON_KEY = "sockpub.base_environ"

#: Handshake entries copied into every virtual request besides its ``HTTP_*`` headers.
COPIED_KEYS = (
    "SCRIPT_NAME", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR",
    "REMOTE_PORT", "wsgi.url_scheme", "wsgi.version", "wsgi.errors", "wsgi.multithread",
    "wsgi.multiprocess", "wsgi.run_once",
)  # fmt: skip
#: Handshake headers that describe the WebSocket upgrade, not the client.
HANDSHAKE_ONLY = frozenset(
    {
        "HTTP_UPGRADE", "HTTP_CONNECTION", "HTTP_SEC_WEBSOCKET_KEY", "HTTP_SEC_WEBSOCKET_VERSION",
        "HTTP_SEC_WEBSOCKET_EXTENSIONS", "HTTP_SEC_WEBSOCKET_PROTOCOL", "HTTP_CONTENT_LENGTH",
        "HTTP_CONTENT_TYPE", "HTTP_ACCEPT_ENCODING", "HTTP_CACHE_CONTROL", "HTTP_PRAGMA",
    }
)  # fmt: skip

#: Ends the access-log line of a request whose client asked for no answer.
UNACKNOWLEDGED_NOTE = " (no acknowledgement asked: answer dropped)"


def replay(
    server: socketio.Server,
    event: str,
    sid: str,
    *args: Any,
    acknowledged: bool = True,
    legacy: bool | None = None,
) -> JWR | str:
    """Replay socket request ``event`` from socket ``sid`` through Flask: the acknowledgement's value.

    This is the boundary: whatever happens below, the client gets an answer
    and the server keeps serving.

    :param acknowledged: ``False`` when the client sent no acknowledgement id:
        the request is replayed all the same and its access-log line says
        that the answer went nowhere.
    :param legacy: answer the v0.9 way (the body alone); default: when the
        payload is a JSON string.
    """
    if legacy is None:
        legacy = is_legacy(args)
    connection = server.get_environ(sid)
    if connection is None:  # the socket went away while its event waited
        return error_answer(410, "the socket is no longer connected", legacy)
    app: Flask = connection["flask.app"]
    state = app_state(app)
    unanswered = "" if acknowledged else UNACKNOWLEDGED_NOTE
    started = perf_counter()
    try:
        request = parse_request(
            event,
            args,
            max_payload=state.max_payload,
            max_url_length=state.max_url_length,
            protected=state.protected_headers,
            host=connection.get("HTTP_HOST"),
            legacy=legacy,
        )
    except BadPayload as exc:
        log_refusal(
            connection,
            "%s %s <bad payload> %d %s%s", sid, event.upper(), exc.status, exc.message, unanswered,
        )  # fmt: skip
        return error_answer(exc.status, exc.message, legacy)
    socket = Socket(server, sid)
    try:
        status, headers, body = dispatch(app, socket, connection, request)
    except Exception:
        logger.exception("socket request %s %s from %s failed", request.method, request.url, sid)
        status, headers, body = 500, [], b""
        jwr = error_jwr(500, "internal server error")
    else:
        jwr = response_jwr(status, headers, body, request.method)
    if access_log.isEnabledFor(logging.INFO):  # off by default: no arguments built then
        access_log.info(
            "%s %s %s %d %.2fms%s", sid, request.method, request.url, status,
            (perf_counter() - started) * 1000, unanswered,
        )  # fmt: skip
    if legacy:
        return legacy_answer(jwr, body)
    return jwr


def answer_malformed(server: socketio.Server, sid: str, *args: Any) -> JWR:
    """Answer a packet that could not be decoded (see :mod:`flask_sockpub.wire.packets`)."""
    reason = (
        args[0].reason if args and isinstance(args[0], MalformedPayload) else "malformed packet"
    )
    log_refusal(server.get_environ(sid), "%s <malformed packet> 400 %s", sid, reason)
    return error_jwr(400, reason)


def replay_unacked(server: socketio.Server, sid: str, event: Any = None, *args: Any) -> JWR | str:
    """Replay a socket request sent without an acknowledgement id; its answer goes nowhere.

    Sails replays such requests too: a client may fire and forget. The one
    access-log line of the request says that nobody got the answer.
    """
    if not isinstance(event, str) or event.lower() not in METHODS:
        return answer_unknown(str(event), sid, server)
    return replay(server, event.lower(), sid, *args, acknowledged=False)


def replay_message(server: socketio.Server, sid: str, *args: Any) -> JWR | str:
    """Replay a v0.9 ``message`` event (a client's ``send()``) as a socket request.

    Sails 0.9 did: an object payload is a GET, a JSON-string payload says its
    ``method`` (or ``verb``); either is answered the v0.9 way, the body alone.
    Only called when the app has no ``message`` handler of its own.
    """
    try:
        method = message_method(args)
    except BadPayload as exc:
        access_log.info("%s MESSAGE <bad payload> %d %s", sid, exc.status, exc.message)
        return error_answer(exc.status, exc.message, legacy=True)
    return replay(server, method, sid, *args, legacy=True)


def answer_unknown(
    event: str,
    sid: str | None = None,
    server: socketio.Server | None = None,
    legacy: bool = False,
) -> JWR | str:
    """Answer an event that is neither a socket request nor handled by the app.

    With ``server``, its access-log line counts against the socket's
    ``SOCKPUB_REFUSED_LOG_RATE``.

    :param legacy: the payload came in the v0.9 form: answer with the body alone.
    """
    known = ", ".join(METHODS)
    message = f"unknown event {event[:80]!r}: socket requests are sent as one of {known}"
    environ = server.get_environ(sid) if server is not None and sid is not None else None
    log_refusal(environ, "%s <unknown event> 400 %s", sid, message)
    return error_answer(400, message, legacy)


def dispatch(
    app: Flask, socket: Socket, connection: dict[str, Any], request: SocketRequest
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run ``request`` through the app; return status, headers and body."""
    environ = request_environ(connection, request)
    mark_socket_request(environ, socket, connection)
    # A fresh app context: Flask pushes one itself when none is active (the
    # usual case: each socket event runs in its own thread or greenlet);
    # under an active one (a test's), push a new one so no ``g`` is shared.
    if has_app_context():
        with app.app_context():
            interface = use_socket_session(app, connection, environ)
            status, headers, body = run_app(app, environ)
    else:
        interface = use_socket_session(app, connection, environ)
        status, headers, body = run_app(app, environ)
    keep_session_cookie(app, interface, connection, headers)
    if not interface.keeps_session_on_socket:
        track_session(app, connection, socket.id)
        rotated = rotated_session(app, environ, connection, headers)
        url = follow_url(app, *rotated) if rotated is not None else None
        if url is not None:
            headers = [*headers, (SESSION_FOLLOW_HEADER, url)]
    if environ.get(CHANGED_KEY):
        headers = [*headers, (IDENTITY_CHANGED_HEADER, "1")]
    if subscribed_own_socket(environ):
        headers = [*headers, (SUBSCRIBED_HEADER, "1")]
    return int(status[:3]), headers, body


def run_app(app: Flask, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run the app on ``environ``: the status line, headers and body it answers."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = (status, headers)
        return refuse_write

    # Flask's own wsgi_app, not app.wsgi_app: Flask-SocketIO wraps the latter.
    chunks = Flask.wsgi_app(app, environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    status, headers = started
    return status, headers, body


def refuse_write(data: bytes) -> None:
    """WSGI's legacy ``write()``, which Flask never calls and virtual requests do not offer."""
    raise RuntimeError("virtual requests do not support the WSGI write() callable")


def request_environ(connection: dict[str, Any], request: SocketRequest) -> dict[str, Any]:
    """The WSGI environ of a virtual request made on the socket of ``connection``."""
    environ = dict(base_environ(connection))
    for name, value in request.headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    path = request.path
    query = request.query
    environ["REQUEST_METHOD"] = request.method
    environ["PATH_INFO"] = (
        path if path.isascii() and "%" not in path else unquote_to_bytes(path).decode("latin-1")
    )
    environ["QUERY_STRING"] = query if query.isascii() else query.encode().decode("latin-1")
    environ["RAW_URI"] = environ["REQUEST_URI"] = request.url
    environ["wsgi.input"] = BytesIO(request.body)
    environ["CONTENT_LENGTH"] = str(len(request.body))
    if request.content_type:
        environ["CONTENT_TYPE"] = request.content_type
    return environ


def base_environ(connection: dict[str, Any]) -> dict[str, Any]:
    """What every virtual request of a socket shares, built once per connection."""
    base = connection.get(BASE_ENVIRON_KEY)
    if base is None:
        base = {key: connection[key] for key in COPIED_KEYS if key in connection}
        base.update(
            (key, value)
            for key, value in connection.items()
            if key.startswith("HTTP_") and key not in HANDSHAKE_ONLY
        )
        base.setdefault("SERVER_PROTOCOL", "HTTP/1.1")
        base["HTTP_ACCEPT"] = "application/json"
        connection[BASE_ENVIRON_KEY] = base
    return base  # type: ignore[no-any-return]
