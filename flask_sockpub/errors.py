"""Errors a client can cause, and how they are answered."""

from __future__ import annotations

from typing import TypeVar

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

#: Key in a virtual request's WSGI environ marking it as a socket request.
VIRTUAL_KEY = "sockpub.socket"


class MalformedPayload:
    """Stands in for the data of a Socket.IO packet that could not be decoded.

    :mod:`flask_sockpub.packets` puts it where the packet's arguments would
    have been, so the handler can answer the client with ``reason``.
    """

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"MalformedPayload({self.reason!r})"


class BadPayload(Exception):
    """A socket request that cannot be replayed; answered with a 4xx JWR."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class FieldErrors(ValueError):
    """Client values that are wrong, field by field; answered ``{"error": ..., "fields": {...}}``.

    :param fields: each offending field (or parameter) -> what was wrong with it.
    :param status: 400, or 409 for a clash with a unique value.
    """

    def __init__(self, message: str, fields: dict[str, str], status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.status = status

    @classmethod
    def of(cls: type[_FieldErrorsT], fields: dict[str, str], status: int = 400) -> _FieldErrorsT:
        """The error for these fields, with a message naming every one."""
        details = "; ".join(f"{name}: {reason}" for name, reason in fields.items())
        return cls(f"{cls.summary}: {details}", fields, status)

    #: How :meth:`of` starts its message.
    summary = "invalid values"


_FieldErrorsT = TypeVar("_FieldErrorsT", bound=FieldErrors)


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

    Socket requests get a JSON error; HTTP requests get exactly what Flask
    would have given them without this handler.
    """
    if VIRTUAL_KEY in request.environ:
        return json_error(error)
    return error


def install_error_handler(app: Flask) -> None:
    """Register :func:`socket_request_error` unless the app handles ``HTTPException`` itself.

    A handler the app registers later replaces this one, as it should: the app
    then answers its own errors, over sockets too.
    """
    if HTTPException not in app.error_handler_spec[None][None]:
        app.register_error_handler(HTTPException, socket_request_error)
