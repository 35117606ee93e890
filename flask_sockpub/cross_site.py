"""Cross-site writes over HTTP: refused for blueprints, and Flask-WTF's token check for HTTP only.

A page of another site can make the user's browser post a ``<form>`` (urlencoded
or multipart) to the app, cookies included, without any CORS preflight. A
browser says where such a request comes from in ``Origin`` (or, for older
ones and some navigations, only in ``Referer``), so a blueprint write (POST,
PUT, PATCH, DELETE, and the GET shortcuts when enabled) over HTTP whose
origin is neither the server's own nor in ``SOCKPUB_CORS_ALLOWED_ORIGINS`` is
refused with a 403 before anything is written. A request with neither header
does not come from a browser page (curl, the Python client, server-to-server
calls) and is allowed: there is no victim's browser whose cookies it could
borrow.

Socket requests are not checked here: the handshake's origin check
(:mod:`flask_sockpub.serving.origins`) already refused sockets from foreign
pages. For the same reason, with Flask-WTF's ``CSRFProtect`` SockPub runs its
token check for HTTP requests only (:func:`install_csrf_for_http_only`): a
socket request cannot carry the token of a form, and needs none.
"""

from __future__ import annotations

import inspect
import logging
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, request

from .serving.origins import origin_policy
from .sockets import is_socket_request

logger = logging.getLogger("flask_sockpub")

#: Methods that write, over HTTP.
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Endpoint suffix of the blueprint's GET shortcuts, which write too.
SHORTCUT_SUFFIX = "_shortcut"


def request_origin(environ: dict[str, object]) -> str | None:
    """Where a browser says the request comes from: ``Origin``, else ``Referer``'s origin.

    ``None`` when it carries neither (not a browser page); ``"null"`` for an
    opaque origin (a sandboxed frame, a ``data:`` page), never an allowed one.
    """
    origin = environ.get("HTTP_ORIGIN")
    if isinstance(origin, str) and origin:
        return origin.rstrip("/")
    referer = environ.get("HTTP_REFERER")
    if isinstance(referer, str) and referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "null"
    return None


def refuse_cross_site_write() -> None:
    """A blueprint's ``before_request``: 403 for a write over HTTP from another site's page."""
    environ = request.environ
    if is_socket_request(environ):
        return
    if request.method not in WRITE_METHODS and not (request.endpoint or "").endswith(
        SHORTCUT_SUFFIX
    ):
        return
    origin = request_origin(environ)
    if origin is None:
        return
    policy = origin_policy(current_app.config["SOCKPUB_CORS_ALLOWED_ORIGINS"])
    if policy == "*" or (callable(policy) and policy(origin, environ)):
        return
    abort(
        403,
        f"cross-site write refused: a page of {origin[:100]} may not write here. Allowed "
        "origins: the server's own and those in SOCKPUB_CORS_ALLOWED_ORIGINS",
    )


def install_csrf_for_http_only(app: Flask) -> None:
    """Make Flask-WTF's ``CSRFProtect`` check HTTP requests only, whenever it is set up.

    A ``before_request`` function runs first of all: when the app has a
    ``CSRFProtect`` that checks every request (``WTF_CSRF_CHECK_DEFAULT``, its
    default), it sets ``WTF_CSRF_CHECK_DEFAULT = False`` and calls
    ``csrf.protect()`` itself, for HTTP requests only. That is the way
    Flask-WTF documents for checking some requests and not others; views
    and blueprints exempted with ``csrf.exempt`` stay exempt. An app that
    set ``WTF_CSRF_CHECK_DEFAULT = False`` itself is left alone.
    """
    taken_over: list[bool] = []

    def csrf_for_http_only() -> None:
        csrf = app.extensions.get("csrf")
        if csrf is None:
            return
        if not taken_over:
            if not app.config.get("WTF_CSRF_CHECK_DEFAULT", True):
                return
            if "apply_exemptions" not in inspect.signature(csrf.protect).parameters:
                logger.warning(
                    "Flask-WTF before 1.3: its CSRF check also runs on socket requests, "
                    "which then need the token (upgrade Flask-WTF to exempt them)"
                )
                taken_over.append(False)
                return
            # The flag first: a request that sees the setting off must also see
            # that SockPub checks in its stead.
            taken_over.append(True)
            app.config["WTF_CSRF_CHECK_DEFAULT"] = False
        if not taken_over[0] or is_socket_request(request.environ):
            return
        if app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect(apply_exemptions=True)

    app.before_request_funcs.setdefault(None, []).insert(0, csrf_for_http_only)
