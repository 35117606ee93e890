"""HTTP errors answered as JSON ``{"error": ...}``: for socket requests, and blueprint URLs over HTTP."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from .sockets import is_socket_request
from .state import app_state


def json_error(error: HTTPException) -> tuple[Response, int]:
    """``{"error": <description>}`` with the exception's status code."""
    response = jsonify(error=error.description or error.name)
    headers = error.get_headers()
    for name, value in headers:
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response, error.code or 500


def socket_request_error(error: HTTPException) -> HTTPException | tuple[Response, int]:
    """The app-wide handler SockPub installs for ``HTTPException``.

    Socket requests get a JSON error, and so do routing errors (404, 405 with
    ``Allow``) under a CRUD blueprint's URL prefix, which happen before the
    blueprint's own handlers apply; other HTTP requests get exactly what Flask
    would have given them without this handler.
    """
    if is_socket_request(request.environ) or (
        request.url_rule is None and under_json_prefix(request.path)
    ):
        return json_error(error)
    return error


def under_json_prefix(path: str) -> bool:
    """Whether ``path`` is under the URL prefix of one of the app's CRUD blueprints."""
    for prefix in app_state().json_error_prefixes:
        base = prefix.rstrip("/")
        if path == base or path.startswith(base + "/"):
            return True
    return False


def install_error_handler(app: Flask) -> None:
    """Register :func:`socket_request_error` unless the app handles ``HTTPException`` itself.

    A handler the app registers later replaces this one, as it should: the app
    then answers its own errors, over sockets too.
    """
    if HTTPException not in app.error_handler_spec[None][None]:
        app.register_error_handler(HTTPException, socket_request_error)
