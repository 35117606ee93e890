"""Reverse proxies in front of the app, and the client's address they forward.

A proxy says who the client is and which URL it asked for in
``X-Forwarded-For``, ``-Proto``, ``-Host`` and ``-Port``. Anybody can send those
headers, so they are believed only when the app declares its proxies: by
wrapping ``app.wsgi_app`` in Werkzeug's ``ProxyFix`` (whose counts are used),
or with ``SOCKPUB_TRUSTED_PROXIES = n``, the number of proxies in front of it.
Otherwise the connection is the client. The origin check of sockets and of
blueprint writes over HTTP uses :func:`forwarded_environ`; limits per client
use :func:`client_address`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context
from werkzeug.middleware.proxy_fix import ProxyFix

#: The environ key ProxyFix leaves behind: the environ has been fixed already.
PROXY_FIX_KEY = "werkzeug.proxy_fix.orig"
#: How deep :func:`declared_proxy_fix` looks into the chain of WSGI middleware.
MAX_MIDDLEWARE_DEPTH = 32


def trusted_proxies(app: Flask) -> int:
    """``SOCKPUB_TRUSTED_PROXIES`` of ``app``, checked.

    :raises ValueError: it is not a whole number of proxies, 0 or more.
    """
    count = app.config.get("SOCKPUB_TRUSTED_PROXIES", 0)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(
            "SOCKPUB_TRUSTED_PROXIES must be the number of proxies in front of the app "
            f"(0 or more), not {count!r}"
        )
    return count


def declared_proxy_fix(app: Flask) -> ProxyFix | None:
    """The ``ProxyFix`` that says how to read the forwarded headers of ``app``, if any.

    ``SOCKPUB_TRUSTED_PROXIES`` when set, else the app's own ``ProxyFix``
    found anywhere in ``app.wsgi_app``'s chain of middleware.
    """
    count = trusted_proxies(app)
    if count:
        return ProxyFix(_unused_app, x_for=count, x_proto=count, x_host=count, x_port=count)
    layer: Any = app.wsgi_app
    for _ in range(MAX_MIDDLEWARE_DEPTH):
        if isinstance(layer, ProxyFix):
            return layer
        layer = getattr(layer, "app", None) or getattr(layer, "wsgi_app", None)
        if layer is None or isinstance(layer, Flask):
            return None
    return None


def forwarded_environ(environ: dict[str, Any], app: Flask | None = None) -> dict[str, Any]:
    """``environ`` as the declared proxies make it: client address, scheme, host, port.

    Unchanged without declared proxies, or when a ``ProxyFix`` in front has
    already rewritten it; otherwise a copy, rewritten as ``ProxyFix`` would.
    """
    if PROXY_FIX_KEY in environ:
        return environ
    app = app or environ.get("flask.app")
    if app is None and has_app_context():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    declared = declared_proxy_fix(app) if app is not None else None
    if declared is None:
        return environ
    fixed = dict(environ)
    ProxyFix(
        _unused_app,
        x_for=declared.x_for,
        x_proto=declared.x_proto,
        x_host=declared.x_host,
        x_port=declared.x_port,
        x_prefix=0,
    )(fixed, _no_start_response)
    return fixed


def client_address(environ: dict[str, Any], app: Flask | None = None) -> str | None:
    """The client's IP address for ``environ`` (an HTTP request's or a socket's handshake's).

    The connection's address, or the one the declared proxies forward (see
    the module's documentation); a client cannot forge it by sending
    ``X-Forwarded-For`` itself, over HTTP or in a socket request's headers.
    """
    address = forwarded_environ(environ, app).get("REMOTE_ADDR")
    return str(address) if address else None


def _unused_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    return []


def _no_start_response(
    status: str, headers: list[tuple[str, str]], exc_info: Any = None
) -> Callable[[bytes], object]:
    return len
