"""The client side of a socket request: the payload sent, the JWR answered.

Shared by the Python client (:mod:`flask_sockpub.client`) and the test client
(:mod:`flask_sockpub.testing`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Response:
    """The answer to a socket request: the JWR's status, body and headers."""

    status_code: int
    #: Decoded JSON for a JSON response, else the text.
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_jwr(cls, jwr: Any) -> Response:
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
    ) -> Response:
        """Make a socket request and return its answer."""
        raise NotImplementedError

    def get(
        self,
        url: str,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Response:
        """A GET socket request: ``get("/user", {"where": {"name": "Randy"}, "limit": 2})``."""
        return self.request("GET", url, data, headers, timeout)

    def post(
        self,
        url: str,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Response:
        """A POST socket request: ``post("/user", {"name": "Randy"})``."""
        return self.request("POST", url, data, headers, timeout)

    def put(
        self,
        url: str,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Response:
        """A PUT socket request: ``put("/user/7", {"name": "Amanda"})``."""
        return self.request("PUT", url, data, headers, timeout)

    def patch(
        self,
        url: str,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Response:
        """A PATCH socket request: ``patch("/user/7", {"name": "Amanda"})``."""
        return self.request("PATCH", url, data, headers, timeout)

    def delete(
        self,
        url: str,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Response:
        """A DELETE socket request: ``delete("/user/7")``."""
        return self.request("DELETE", url, data, headers, timeout)
