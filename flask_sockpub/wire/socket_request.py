"""A socket request as a client sends it, checked and turned into request parts.

Everything a client sends is validated here, before Flask sees it: what is
wrong is said in a :class:`BadPayload`, answered with a 4xx JWR.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

import orjson

from .. import config

#: The events a socket request may be sent as (compared case-insensitively).
METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
#: The event a Socket.IO client's ``send()`` uses, which Sails 0.9 replayed as a
#: request too: a GET for an object payload, the ``method`` (or ``verb``) of a
#: JSON-string payload.
MESSAGE_EVENT = "message"
#: Methods whose ``data`` becomes the JSON body; the others put it in the query.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: Payload headers that never replace the handshake's, whatever
#: ``SOCKPUB_PROTECTED_HEADERS`` says: a socket request is the socket's, from
#: its page, with its session.
ALWAYS_PROTECTED = frozenset({"origin", "cookie", "host"})
#: Headers the transport owns; payload values for them are ignored.
TRANSPORT_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "upgrade", "keep-alive", "te", "trailer"}
)
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
MAX_HEADERS = 100
MAX_HEADER_LENGTH = 8 * 1024

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ABSOLUTE = re.compile(r"https?://", re.IGNORECASE)
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")


class MalformedPayload:
    """Stands in for the data of a Socket.IO packet that could not be decoded.

    :mod:`flask_sockpub.wire.packets` puts it where the packet's arguments would
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


@dataclass(frozen=True, slots=True)
class ProtectedHeaders:
    """Header names (lower case) a socket request's payload may not set: the handshake's stay."""

    names: frozenset[str]
    #: Prefixes from names ending in ``*`` (``x-forwarded-``).
    prefixes: tuple[str, ...] = ()

    def __contains__(self, lowered: object) -> bool:
        return lowered in self.names or (
            bool(self.prefixes) and isinstance(lowered, str) and lowered.startswith(self.prefixes)
        )


def protected_headers(setting: Iterable[str]) -> ProtectedHeaders:
    """The :class:`ProtectedHeaders` of a ``SOCKPUB_PROTECTED_HEADERS`` value.

    ``Origin``, ``Cookie`` and ``Host`` are always protected.

    :param setting: header names, case-insensitive; a name ending in ``*``
        covers every header it starts (``"X-Forwarded-*"``).
    :raises TypeError: the setting is not a list of strings.
    :raises ValueError: a ``*`` is anywhere but at the end of a name.
    """
    if isinstance(setting, str) or not all(isinstance(name, str) for name in setting):
        raise TypeError(
            "SOCKPUB_PROTECTED_HEADERS must be a list of header names like "
            f"['X-Forwarded-*', 'X-Real-IP'], not {setting!r}"
        )
    names = set(ALWAYS_PROTECTED)
    prefixes = []
    for name in setting:
        lowered = name.strip().lower()
        if "*" in lowered[:-1] or not _TOKEN.match(lowered.rstrip("*") or "*"):
            raise ValueError(
                f"SOCKPUB_PROTECTED_HEADERS: {name!r} is not a header name (a '*' may only end one)"
            )
        if lowered.endswith("*"):
            prefixes.append(lowered[:-1])
        else:
            names.add(lowered)
    return ProtectedHeaders(frozenset(names), tuple(prefixes))


#: The protected headers of the default ``SOCKPUB_PROTECTED_HEADERS``.
DEFAULT_PROTECTED = protected_headers(config.PROTECTED_HEADERS)


@dataclass(slots=True)
class SocketRequest:
    """A socket request, checked, in the parts a WSGI environ is built from."""

    method: str
    url: str
    path: str
    query: str
    body: bytes
    content_type: str | None
    headers: dict[str, str]


def is_legacy(args: tuple[Any, ...]) -> bool:
    """True for the v0.9 form: the payload is a JSON string, answered with the body alone."""
    return bool(args) and isinstance(args[0], str)


def parse_request(
    event: str,
    args: tuple[Any, ...],
    *,
    max_payload: int,
    max_url_length: int,
    host: str | None = None,
    legacy: bool | None = None,
    protected: ProtectedHeaders = DEFAULT_PROTECTED,
) -> SocketRequest:
    """Check the payload of socket event ``event`` and return its request parts.

    :param host: the ``Host`` of the socket's handshake: an absolute URL
        naming it is a path on this server.
    :param legacy: whether the request came in a v0.9 form, whose payload may
        call ``data`` ``params`` (default: when the payload is a JSON string).
    :param protected: payload headers dropped, so that the handshake's stay.
    """
    method = event.upper()
    if legacy is None:
        legacy = is_legacy(args)
    payload = _payload_object(args)
    declared = payload.get("method")
    if declared is not None and (not isinstance(declared, str) or declared.upper() != method):
        raise BadPayload(f"the payload's method {declared!r} does not match the event {event!r}")
    url = _checked_url(payload.get("url"), max_url_length, host)
    path, _, query = url.partition("#")[0].partition("?")
    headers = _checked_headers(payload.get("headers"), protected)
    data = _data_of(payload, legacy)
    body = b""
    content_type = None
    if method in BODY_METHODS:
        if data is not None:
            content_type = headers.pop("content-type", None) or "application/json"
            body = _encoded_body(data, content_type)
            if len(body) > max_payload:
                raise BadPayload(
                    f"the request body is {len(body)} bytes; "
                    f"SOCKPUB_MAX_PAYLOAD allows {max_payload}",
                    413,
                )
    elif data is not None:
        if not isinstance(data, dict):
            raise BadPayload(
                f"data for a {method} request must be an object (it becomes the query "
                f"string), not {json_kind(data)}"
            )
        extra = query_string(data)
        if len(extra) > max_payload:
            raise BadPayload(
                f"the query string is {len(extra)} bytes; SOCKPUB_MAX_PAYLOAD allows {max_payload}",
                413,
            )
        if extra:
            query = f"{query}&{extra}" if query else extra
    return SocketRequest(method, url, path, query, body, content_type, headers)


def message_method(args: tuple[Any, ...]) -> str:
    """The method a v0.9 ``message`` event asks for: the JSON string's ``method`` or ``verb``, else GET."""
    if not args or not isinstance(args[0], str):
        return "get"
    try:
        payload = orjson.loads(args[0])
    except ValueError:
        return "get"  # parse_request says what is wrong with it
    declared = payload.get("method", payload.get("verb")) if isinstance(payload, dict) else None
    if declared is None:
        return "get"
    if not isinstance(declared, str) or declared.lower() not in METHODS:
        raise BadPayload(
            f"the payload's method {str(declared)[:80]!r} is not one of {', '.join(METHODS)}"
        )
    return declared.lower()


def query_string(data: dict[str, Any]) -> str:
    """Encode ``data`` as a query string, as sails.io.js clients expect.

    Scalars as text, booleans ``true``/``false``, lists as repeated keys,
    objects as compact JSON, nulls dropped.
    """
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        if isinstance(value, list):
            pairs.extend((key, _query_value(item)) for item in value if item is not None)
        elif value is not None:
            pairs.append((key, _query_value(value)))
    return urlencode(pairs, quote_via=quote)


def _query_value(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return _json_bytes(value).decode()
    return str(value)


def _payload_object(args: tuple[Any, ...]) -> dict[str, Any]:
    if not args:
        raise BadPayload("a socket request needs a payload: {method, url, data, headers}")
    payload = args[0]
    if isinstance(payload, MalformedPayload):
        raise BadPayload(payload.reason)
    if isinstance(payload, str):
        try:
            payload = orjson.loads(payload)
        except ValueError as exc:
            raise BadPayload(f"the payload string is not valid JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise BadPayload(
            f"the payload must be an object {{method, url, data, headers}}, not {json_kind(payload)}"
        )
    return payload


def _checked_url(url: Any, max_url_length: int, host: str | None = None) -> str:
    if url is None:
        raise BadPayload("the payload has no url")
    if not isinstance(url, str):
        raise BadPayload(f"url must be a string, not {json_kind(url)}")
    if len(url) > max_url_length:
        raise BadPayload(f"url is {len(url)} characters long; the limit is {max_url_length}", 414)
    if _CONTROL.search(url):
        raise BadPayload("url must not contain control characters (CR, LF, NUL...)")
    return _checked_path(_own_path(url, host) if host and _ABSOLUTE.match(url) else url)


def _checked_path(url: str) -> str:
    if not url.startswith("/") or url.startswith(("//", "/\\")):
        raise BadPayload(
            f"url must be a path on this server starting with '/', like '/user', not {url[:80]!r}"
        )
    path = url.partition("?")[0]
    if "." in path or "%" in path:
        segments = unquote(path).replace("\\", "/").split("/")
        if ".." in segments:
            raise BadPayload("url must not contain '..' segments")
    return url


def _own_path(url: str, host: str) -> str:
    """The path and query of an absolute URL naming ``host`` (the socket's own server)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise BadPayload(f"url {url[:80]!r} is not a valid URL") from None
    scheme = parts.scheme.lower()
    if _authority(scheme, parts.netloc) != _authority(scheme, host):
        raise BadPayload(
            "url must be a path on this server starting with '/', like '/user', or an "
            f"absolute URL naming this server, not {url[:80]!r}"
        )
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _authority(scheme: str, netloc: str) -> str:
    """``host[:port]`` in lower case, without the scheme's default port."""
    authority = netloc.lower()
    default = _DEFAULT_PORTS.get(scheme)
    return authority[: -len(default)] if default and authority.endswith(default) else authority


def _checked_headers(headers: Any, protected: ProtectedHeaders) -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise BadPayload(f"headers must be an object of strings, not {json_kind(headers)}")
    if len(headers) > MAX_HEADERS:
        raise BadPayload(f"{len(headers)} headers; the limit is {MAX_HEADERS}", 431)
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not _TOKEN.match(name):
            raise BadPayload(f"header name {name[:80]!r} is not a valid HTTP header name")
        if not isinstance(value, str):
            raise BadPayload(f"header {name!r} must be a string, not {json_kind(value)}")
        if len(value) > MAX_HEADER_LENGTH:
            raise BadPayload(f"header {name!r} is longer than {MAX_HEADER_LENGTH} characters", 431)
        if _CONTROL.search(value.replace("\t", " ")):
            raise BadPayload(f"header {name!r} must not contain control characters")
        lowered = name.lower()
        if lowered not in protected and lowered not in TRANSPORT_HEADERS:
            checked[lowered] = value
    return checked


def _data_of(payload: dict[str, Any], legacy: bool) -> Any:
    """The payload's ``data``; in the v0.9 forms, ``params`` (its older name) too."""
    if legacy and "params" in payload:
        if "data" in payload:
            raise BadPayload("the payload has both data and params (the v0.9 name of data)")
        return payload["params"]
    return payload.get("data")


def _encoded_body(data: Any, content_type: str) -> bytes:
    if content_type.partition(";")[0].strip().lower() == FORM_CONTENT_TYPE:
        if not isinstance(data, dict):
            raise BadPayload(f"form-encoded data must be an object, not {json_kind(data)}")
        return query_string(data).encode()
    if not isinstance(data, (dict, list)):
        raise BadPayload(f"data must be an object or an array, not {json_kind(data)}")
    return _json_bytes(data)


def _json_bytes(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError as exc:
        raise BadPayload(f"data cannot be sent as JSON ({exc})") from None


def json_kind(value: Any) -> str:
    """What kind of JSON value ``value`` is, for error messages: "a number", "null"..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
