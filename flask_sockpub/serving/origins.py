"""Which web origins may open a socket: ``SOCKPUB_CORS_ALLOWED_ORIGINS`` for engine.io.

A browser sends the ``Origin`` of the page opening a socket, and a page on
another site must not open one with the user's cookies (cross-site WebSocket
hijacking). engine.io refuses origins it is not told to allow. Its own rule for
a list of origins drops the server's own origin, and an empty list turns the
check off entirely; SockPub's rule is simpler: the server's own origin is
always allowed, the setting adds others, and only ``"*"`` allows every origin.

Clients that send no ``Origin`` (non-browser clients: the Python client,
curl) are not checked: the header is what a browser uses to say where a page
came from.

Behind a reverse proxy the server's own origin is the one the proxy forwards
(``X-Forwarded-Proto``/``-Host``), believed only when the app declares its
proxies (see :mod:`flask_sockpub.serving.proxies`): without that, any client
could name the origin it comes from as the server's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .proxies import forwarded_environ

#: engine.io's ``cors_allowed_origins``: ``"*"``, or a function of (origin, environ).
OriginPolicy = str | Callable[[str | None, dict[str, Any]], bool]


def origin_policy(setting: str | Iterable[str] | None) -> OriginPolicy:
    """engine.io's ``cors_allowed_origins`` for a ``SOCKPUB_CORS_ALLOWED_ORIGINS`` value.

    :param setting: ``None`` (same origin only), ``"*"`` (any origin), an
        origin, or a list of origins allowed besides the server's own.
    :raises TypeError: the setting is none of these.
    """
    if setting == "*":
        return "*"
    if setting is None:
        allowed: frozenset[str] = frozenset()
    elif isinstance(setting, str):
        allowed = frozenset({setting.rstrip("/")})
    elif isinstance(setting, Iterable) and all(isinstance(item, str) for item in setting):
        if "*" in setting:
            return "*"
        allowed = frozenset(item.rstrip("/") for item in setting)
    else:
        raise TypeError(
            "SOCKPUB_CORS_ALLOWED_ORIGINS must be None, '*', an origin or a list of origins "
            f"like 'https://example.com', not {setting!r}"
        )

    def is_allowed(origin: str | None, environ: dict[str, Any]) -> bool:
        return origin is None or origin in allowed or origin in own_origins(environ)

    return is_allowed


def own_origins(environ: dict[str, Any]) -> tuple[str, ...]:
    """The server's own origin as the request names it, and as declared proxies forward it."""
    origins = []
    for seen in (environ, forwarded_environ(environ)):
        host = seen.get("HTTP_HOST")
        if host:
            origin = f"{seen.get('wsgi.url_scheme', 'http')}://{host}"
            if origin not in origins:
                origins.append(origin)
    return tuple(origins)
