"""The JWR (JSON WebSocket Response), the answer to a socket request, on both sides.

The server builds it from a Flask response (:func:`response_jwr`,
:func:`error_jwr`, and the v0.9 form :func:`legacy_answer`); the clients read it
(:class:`SocketResponse`) and build the payload they send
(:func:`request_payload`, :class:`SocketRequests`), shared by the Python client
(:mod:`flask_sockpub.client`) and the test client (:mod:`flask_sockpub.testing`).
A JWR is ``{"body": ..., "statusCode": 200, "headers": {...}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

#: A JWR as sent: ``{"body", "statusCode", "headers"}``.
JWR = dict[str, Any]


# The server side


def response_jwr(status: int, headers: list[tuple[str, str]], body: bytes, method: str) -> JWR:
    """The JWR of a Flask response; ``Set-Cookie`` is left out."""
    jwr_headers: dict[str, str] = {}
    content_type = ""
    for name, value in headers:
        lowered = name.lower()
        if lowered == "set-cookie":
            continue
        if lowered == "content-type":
            content_type = value
        jwr_headers[name] = f"{jwr_headers[name]}, {value}" if name in jwr_headers else value
    return {
        "body": None if method == "HEAD" else decoded_body(body, content_type),
        "statusCode": status,
        "headers": jwr_headers,
    }


def decoded_body(body: bytes, content_type: str) -> Any:
    """A response body as a JWR carries it: decoded JSON for JSON, else text."""
    if not body:
        return None
    mimetype, _, params = content_type.partition(";")
    mimetype = mimetype.strip().lower()
    if mimetype == "application/json" or mimetype.endswith("+json"):
        try:
            return orjson.loads(body)
        except ValueError:
            pass
    charset = "utf-8"
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def error_jwr(status: int, message: str) -> JWR:
    """A JWR carrying ``{"error": message}``."""
    return {
        "body": {"error": message},
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
    }


def error_answer(status: int, message: str, legacy: bool) -> JWR | str:
    """An error in the shape the request came in: a JWR, or the v0.9 body alone."""
    jwr = error_jwr(status, message)
    return legacy_answer(jwr, b"") if legacy else jwr


def legacy_answer(jwr: JWR, body: bytes) -> str:
    """The v0.9 answer: the body alone, JSON-encoded text for a JSON response."""
    if body:
        return body.decode("utf-8", errors="replace").rstrip("\n")
    content = jwr["body"]
    if content is None:
        return ""
    return content if isinstance(content, str) else orjson.dumps(content).decode()


# The client side


@dataclass(frozen=True)
class SocketResponse:
    """The answer to a socket request: the JWR's status, body and headers.

    Also importable as ``Response``, its earlier name (which shadows
    ``flask.Response`` when both are imported).
    """

    status_code: int
    #: Decoded JSON for a JSON response, else the text.
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_jwr(cls, jwr: Any) -> SocketResponse:
        """Read a JWR ``{"body", "statusCode", "headers"}``."""
        if not isinstance(jwr, dict) or "statusCode" not in jwr:
            raise ValueError(f"not a JWR: {jwr!r:.200}")
        return cls(int(jwr["statusCode"]), jwr.get("body"), dict(jwr.get("headers") or {}))

    @property
    def ok(self) -> bool:
        """True for a status below 400."""
        return self.status_code < 400

    @property
    def error(self) -> str | None:
        """The ``error`` message of an error body, if there is one."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return error if isinstance(error, str) else None


#: The earlier name of :class:`SocketResponse`.
Response = SocketResponse


def request_payload(
    method: str, url: str, data: Any = None, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The payload of a socket request, as sails.io.js sends it: ``{method, url, data, headers}``."""
    payload: dict[str, Any] = {"method": method.upper(), "url": url}
    if data is not None:
        payload["data"] = data
    if headers is not None:
        payload["headers"] = dict(headers)
    return payload


class SocketRequests:
    """``get``, ``post``, ``put``, ``patch`` and ``delete``, made with the class's ``request()``.

    ``data`` becomes the query string of GET and DELETE and the JSON body of
    POST, PUT and PATCH; ``headers`` go on top of the socket's handshake
    headers; ``timeout`` is how many seconds to wait for the answer (``None``:
    the client's default).
    """

    def request(
        self,
        method: str,
        url: str,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> SocketResponse:
        """Make a socket request and return its answer."""
        raise NotImplementedError

    def get(
        self,
        url: str,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> SocketResponse:
        """A GET socket request: ``get("/user", {"where": {"name": "Randy"}, "limit": 2})``."""
        return self.request("GET", url, data, headers, timeout)

    def post(
        self,
        url: str,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> SocketResponse:
        """A POST socket request: ``post("/user", {"name": "Randy"})``."""
        return self.request("POST", url, data, headers, timeout)

    def put(
        self,
        url: str,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> SocketResponse:
        """A PUT socket request: ``put("/user/7", {"name": "Amanda"})``."""
        return self.request("PUT", url, data, headers, timeout)

    def patch(
        self,
        url: str,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> SocketResponse:
        """A PATCH socket request: ``patch("/user/7", {"name": "Amanda"})``."""
        return self.request("PATCH", url, data, headers, timeout)

    def delete(
        self,
        url: str,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> SocketResponse:
        """A DELETE socket request: ``delete("/user/7")``."""
        return self.request("DELETE", url, data, headers, timeout)
